"""Plain text for a terminal: lines and markdown tables."""

from __future__ import annotations

import sys


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
