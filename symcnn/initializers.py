"""Weight initialisers, selectable per layer by name.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> w = initialize("glorot_reference", (1, 1, 3, 3), rng, layer_kind="conv")
>>> bool(np.all(np.abs(w) <= np.sqrt(6 / (9 + 1))))
True
"""

from __future__ import annotations

import math

import numpy as np

INITIALIZERS = ("glorot_uniform", "glorot_reference", "uniform", "he", "zeros")


def fans(shape: tuple[int, ...], layer_kind: str, convention: str) -> tuple[int, int]:
    """(n_in, n_out) of a weight array under a Glorot convention.

    ``"standard"`` is PyTorch's (conv: C*kh*kw and F*kh*kw; dense: in and out features).
    ``"reference"`` is the reference networks': n_in is the number of weights of the layer,
    n_out is 1 for a convolution and the number of units for a dense layer (network A:
    sqrt(6/(9 + 1)) for its 3x3 kernel, network D: sqrt(6/(5*3*3 + 1))).

    >>> fans((5, 1, 3, 3), "conv", "reference"), fans((5, 1, 3, 3), "conv", "standard")
    ((45, 1), (9, 45))
    """
    if convention == "reference":
        return int(np.prod(shape)), (shape[0] if layer_kind == "dense" else 1)
    receptive = int(np.prod(shape[2:])) if layer_kind == "conv" else 1
    return shape[1] * receptive, shape[0] * receptive


def initialize(name: str, shape: tuple[int, ...], rng: np.random.Generator,
               layer_kind: str) -> np.ndarray:
    """Draw a float64 array of ``shape`` with the initialiser called ``name``.

    ``"glorot_uniform"``/``"glorot_reference"``: U(-l, l), l = sqrt(6/(n_in + n_out)) (see
    :func:`fans`); ``"uniform"``: U(-0.5, 0.5) as network B's reference; ``"he"``:
    N(0, 2/n_in) with PyTorch's n_in; ``"zeros"``.

    >>> initialize("zeros", (2,), np.random.default_rng(0), "dense")
    array([0., 0.])
    """
    if name not in INITIALIZERS:
        raise ValueError(f"unknown initializer {name!r}; expected one of {INITIALIZERS}")
    if name == "zeros":
        return np.zeros(shape)
    if name == "uniform":
        return rng.uniform(-0.5, 0.5, size=shape)
    if name == "he":
        fan_in, _ = fans(shape, layer_kind, "standard")
        return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)
    fan_in, fan_out = fans(shape, layer_kind, "reference" if name == "glorot_reference" else "standard")
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)
