"""Progress bars for long work a person waits for, drawn by tqdm.

In Jupyter the bar is tqdm's widget (with ipywidgets installed); in a terminal it is one line
redrawn in place; written to a file or a pipe it becomes a few whole lines (one every
:data:`FILE_INTERVAL` seconds and the last), never one line of carriage returns.

>>> import io
>>> stream = io.StringIO()
>>> with ProgressBar(3, "demo", stream=stream) as bar:
...     for _ in range(3):
...         bar.update(loss=0.5)
>>> bar.done, stream.getvalue().splitlines()[-1].startswith("demo: 100%")
(3, True)
"""

from __future__ import annotations

import re
import sys
import time

#: tqdm moves the cursor (ESC [ n A, ...) to redraw nested bars in place; a file or pipe gets whole lines instead
_CURSOR_CODES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
FILE_INTERVAL = 10.0  # seconds between lines when the bar is written to a file or a pipe


class _Lines:
    """A stream wrapper that turns tqdm's in-place redraws ('\\r' + status) into whole lines."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> None:
        status = _CURSOR_CODES.sub("", text.replace("\r", "")).rstrip()
        if status:
            self.stream.write(status + "\n")

    def flush(self) -> None:
        self.stream.flush()


def _in_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class ProgressBar:
    """A progress bar over ``total`` steps that shows the latest values (e.g. the loss) after the count.

    Parameters: ``total`` steps; ``label`` in front of the bar; ``enabled`` (False draws nothing);
    ``stream`` to draw on (default: stderr, or the notebook's widget in Jupyter); ``unit`` of a step.
    """

    def __init__(self, total: int, label: str = "", enabled: bool = True, stream=None, unit: str = "step"):
        self.total, self.label, self.enabled = total, label, enabled
        self.done = 0
        self._bar = self._make_bar(stream, unit) if enabled else None
        self._values, self._values_shown_at = None, -float("inf")

    def _make_bar(self, stream, unit):
        from tqdm.auto import tqdm as auto_bar
        from tqdm.autonotebook import tqdm as chosen  # what tqdm.auto chose: the notebook widget or text
        from tqdm.std import tqdm as text_bar

        options = {"total": self.total, "desc": self.label or None, "unit": unit}
        if stream is None and chosen is not text_bar:
            return auto_bar(**options)
        stream = sys.stderr if stream is None else stream
        if _in_terminal(stream):
            return text_bar(file=stream, dynamic_ncols=True, **options)
        return text_bar(file=_Lines(stream), mininterval=FILE_INTERVAL, ascii=True, **options)

    def __enter__(self):
        return self

    def update(self, steps: int = 1, **values) -> None:
        """Advance by ``steps`` (0 to only show) and show ``values`` after the count: numbers as
        ``loss=0.3``, text as given (e.g. what is being measured)."""
        self.done += steps
        if self._bar is not None:
            if values:
                # formatted no more often than the bar redraws (a training loop updates every step)
                self._values = values
                now = time.monotonic()
                if now - self._values_shown_at >= self._bar.mininterval:
                    self._show_values()
                    self._values_shown_at = now
            self._bar.update(steps)

    def _show_values(self) -> None:
        self._bar.set_postfix({key: value if isinstance(value, str) else f"{value:.4g}"
                               for key, value in self._values.items()}, refresh=False)

    def close(self) -> None:
        """Draw the final state (with the latest values) and release the bar."""
        if self._bar is not None:
            if self._values is not None:
                self._show_values()
            self._bar.close()
            self._bar = None

    def __exit__(self, *exc):
        self.close()
        return False
