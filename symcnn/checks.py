"""Argument checks shared by the public API, so every entry point words a mistake the same way.

>>> check_int(5, "Conv2D: filters")
5
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path


def check_int(value, argument, allow_none=False, minimum=1):
    """Return ``value`` as an int if it is one and >= ``minimum`` (or None if allowed), else raise.

    >>> check_int(3, "epochs"), check_int(None, "seed", allow_none=True, minimum=0)
    (3, None)

    Parameters: ``value``; ``argument``, its name for the message; ``allow_none``; ``minimum``.
    """
    if value is None and allow_none:
        return None
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{argument} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{argument} must be >= {minimum}, got {value}")
    return int(value)


def check_path(value, argument: str) -> Path:
    """``value`` as a ``Path`` if it is a str or path-like, else a TypeError naming ``argument``.

    >>> check_path("digits", "directory").name
    'digits'
    """
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{argument} must be a str or path-like, got {type(value).__name__}")
    return Path(value)
