"""Weight initialisers, selectable per layer by name.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> from symcnn.layers import Conv2D
>>> w = initialize("glorot_reference", (1, 1, 3, 3), rng, Conv2D(1, 3).fans)
>>> bool(np.all(np.abs(w) <= np.sqrt(6 / (9 + 1))))
True
"""

from __future__ import annotations

import math

import numpy as np

INITIALIZERS = ("glorot_uniform", "glorot_reference", "uniform", "he", "zeros")


def initialize(name: str, shape: tuple[int, ...], rng: np.random.Generator, fans) -> np.ndarray:
    """Draw a float64 array of ``shape`` with the initialiser called ``name``.

    ``"glorot_uniform"``/``"glorot_reference"``: U(-l, l), l = sqrt(6/(n_in + n_out)), with
    (n_in, n_out) = ``fans(shape, convention)``, the layer's own count (``Layer.fans``):
    ``"standard"`` is PyTorch's, ``"reference"`` the reference networks'; ``"uniform"``:
    U(-0.5, 0.5) as network B's reference; ``"he"``: N(0, 2/n_in) with PyTorch's n_in; ``"zeros"``.

    >>> initialize("zeros", (2,), np.random.default_rng(0), fans=None)
    array([0., 0.])
    """
    if name not in INITIALIZERS:
        raise ValueError(f"unknown initializer {name!r}; expected one of {INITIALIZERS}")
    if name == "zeros":
        return np.zeros(shape)
    if name == "uniform":
        return rng.uniform(-0.5, 0.5, size=shape)
    if name == "he":
        fan_in, _ = fans(shape, "standard")
        return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)
    fan_in, fan_out = fans(shape, "reference" if name == "glorot_reference" else "standard")
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)
