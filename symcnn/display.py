"""Everything symcnn shows a person: progress bars, text and pictures. The only module that prints.

>>> with ProgressBar(3, "demo", enabled=False) as bar:
...     for _ in range(3):
...         bar.update(loss=0.5)
>>> bar.done
3
"""

from __future__ import annotations

import sys
import time

import numpy as np


class ProgressBar:
    """A one-line text progress bar on stderr, with the latest loss and a time estimate.

    Parameters: ``total`` steps, a ``label``, and ``enabled`` (False draws nothing).
    """

    def __init__(self, total: int, label: str = "", enabled: bool = True, stream=None, width: int = 30):
        self.total, self.label, self.enabled, self.width = total, label, enabled, width
        self.stream = stream or sys.stderr
        self.done = 0
        self.started = time.perf_counter()
        self._last_draw = 0.0

    def __enter__(self):
        return self

    def update(self, steps: int = 1, **values) -> None:
        """Advance by ``steps`` and show ``values`` (e.g. ``loss=0.3``)."""
        self.done += steps
        now = time.perf_counter()
        if self.enabled and (now - self._last_draw > 0.1 or self.done >= self.total):
            self._last_draw = now
            self._draw(now, values)

    def _draw(self, now, values):
        fraction = self.done / self.total if self.total else 1.0
        filled = int(self.width * fraction)
        elapsed = now - self.started
        remaining = elapsed / fraction - elapsed if fraction > 0 else 0.0
        shown = " ".join(f"{k} {v:.4g}" for k, v in values.items())
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
                          f"{self.done}/{self.total} {shown} {elapsed:.1f}s<{remaining:.1f}s ")
        self.stream.flush()

    def __exit__(self, *exc):
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
        return False


def _pyplot():
    """matplotlib's pyplot, or an ImportError that says how to get it."""
    try:
        import matplotlib
        if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError('plotting needs matplotlib: pip install "symcnn[plots]"') from None
    return plt


def plot_representations(image, before: dict, after: dict, path=None, title=None):
    """The input and each hidden feature map, before (top row) and after (bottom row) training.

    ``before``/``after`` map layer names to (C, H, W) arrays (``Network.feature_maps``); the
    first channel of each map is shown. Returns the matplotlib Figure; saves it to ``path``.

    >>> import numpy as np
    >>> figure = plot_representations(np.zeros((1, 4, 4)), {"conv1": np.ones((1, 2, 2))},
    ...                               {"conv1": np.zeros((1, 2, 2))})
    >>> [axis.get_title() for axis in figure.axes[:2]]
    ['input (before)', 'conv1 (before)']
    """
    plt = _pyplot()
    names = list(before)
    figure, axes = plt.subplots(2, len(names) + 1, figsize=(2.6 * (len(names) + 1), 5.4), squeeze=False)
    for row, (label, maps) in enumerate([("before", before), ("after", after)]):
        axes[row, 0].imshow(np.asarray(image)[0], cmap="gray")
        axes[row, 0].set_title(f"input ({label})")
        for column, name in enumerate(names, start=1):
            shown = axes[row, column].imshow(np.asarray(maps[name])[0], cmap="viridis")
            axes[row, column].set_title(f"{name} ({label})")
            figure.colorbar(shown, ax=axes[row, column], fraction=0.046)
    for axis in axes.flat:
        axis.set_xticks([])
        axis.set_yticks([])
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=110)
    return figure


def echo(line: str = "", stream=None) -> None:
    """Print one line for a person (stdout unless ``stream`` is given)."""
    print(line, file=stream or sys.stdout, flush=True)


def format_table(rows, headers) -> str:
    """A markdown table of ``rows`` (lists of cells) under ``headers``.

    >>> print(format_table([["a", 1.5]], ["name", "value"]))
    | name | value |
    | --- | --- |
    | a | 1.5 |
    """
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
