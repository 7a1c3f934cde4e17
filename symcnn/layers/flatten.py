"""Flatten: its shape rule and numeric kernel (it has no template: it renames, it computes nothing).

>>> Flatten().output_shape((2, 3, 3))
(18,)
"""

from __future__ import annotations

import numpy as np

from .base import Layer


class Flatten(Layer):
    """Flatten (C, H, W) to (C*H*W,) in channel-major order, as PyTorch does.

    >>> Flatten().output_shape((1, 15, 15))
    (225,)
    """

    kind = "flatten"

    def output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def kernel(self, node, template, needs_input_gradient):
        """:class:`FlattenKernel` (``template`` is None: flatten has none)."""
        return FlattenKernel()


class FlattenKernel:
    """Channels-last maps to PyTorch's channel-major flat order, and back."""

    activation = None

    def forward(self, x, params):
        return x.transpose(0, 3, 1, 2).reshape(x.shape[0], -1), x.shape

    def backward(self, upstream, cache, params, gradients):
        n, h, w, c = cache
        return upstream.reshape(n, c, h, w).transpose(0, 2, 3, 1)
