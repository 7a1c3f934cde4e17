"""Progress bars for long work a person waits for.

>>> with ProgressBar(3, "demo", enabled=False) as bar:
...     for _ in range(3):
...         bar.update(loss=0.5)
>>> bar.done
3
"""

from __future__ import annotations

import sys
import time


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
