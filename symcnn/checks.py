"""Argument checks shared by the public API, so every entry point words a mistake the same way.

>>> check_int(5, "Conv2D: filters")
5
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path

import numpy as np
import sympy


def is_int(value) -> bool:
    """Whether ``value`` is an integer (numpy's too), not a bool.

    >>> is_int(3), is_int(True), is_int(3.0)
    (True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(value, argument, allow_none=False, minimum=1):
    """Return ``value`` as an int if it is one and >= ``minimum`` (or None if allowed), else raise.

    >>> check_int(3, "epochs"), check_int(None, "seed", allow_none=True, minimum=0)
    (3, None)

    Parameters: ``value``; ``argument``, its name for the message; ``allow_none``; ``minimum``.
    """
    if value is None and allow_none:
        return None
    if not is_int(value):
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


def check_bool(value, argument: str) -> bool:
    """``value`` if it is True or False (numpy's bools too), else a TypeError naming ``argument``.

    A string such as ``"no"`` is truthy, so it is refused rather than read as True.

    >>> check_bool(False, "shuffle")
    False
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{argument} must be True or False, got {value!r}")
    return bool(value)


def as_expression(value, argument: str = "expression"):
    """``value`` as a sympy expression without ever parsing text: strings are refused.

    ``sympy.sympify`` of a string runs ``eval`` on it, so symcnn converts only objects that
    already are numbers or expressions (``strict=True``).

    >>> import sympy
    >>> as_expression(2 * sympy.Symbol("w"))
    2*w
    >>> as_expression("w + 1")
    Traceback (most recent call last):
    ...
    TypeError: expression must be a sympy expression or a number, got the str 'w + 1' (symcnn never parses text as code)

    Parameters: ``value``; ``argument``, its name for the message.
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{argument} must be a sympy expression or a number, got the {type(value).__name__} "
                        f"{value!r} (symcnn never parses text as code)")
    try:
        return sympy.sympify(value, strict=True)
    except sympy.SympifyError:
        raise TypeError(f"{argument} must be a sympy expression or a number, got "
                        f"{type(value).__name__} {value!r}") from None
