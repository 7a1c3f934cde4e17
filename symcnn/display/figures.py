"""The figure every plotting function returns: a matplotlib Figure that shows itself in Jupyter.

A Figure made outside pyplot is not shown by pyplot's inline machinery, and Jupyter shows
a cell's value only through a formatter: this one carries ``_repr_png_``, so it appears as
a picture when it is a cell's value under any backend (and in nbconvert's output), while it
stays a plain Figure for ``savefig``, ``axes`` and everything else.

>>> figure = InlineFigure(figsize=(2, 1))
>>> axis = figure.subplots()
>>> figure._repr_png_()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure


class InlineFigure(Figure):
    """A matplotlib Figure (constrained layout, so titles and labels fit) that displays as PNG."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("layout", "constrained")
        super().__init__(*args, **kwargs)

    def _repr_png_(self) -> bytes:
        """The figure as PNG bytes, cropped to what is drawn (IPython calls this to show it)."""
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()
