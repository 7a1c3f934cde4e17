"""Flatten: its shape rule and numeric kernel (it has no template: it renames, it computes nothing).

>>> Flatten().output_shape((2, 3, 3))
(18,)
"""

from __future__ import annotations

import numpy as np

from .base import Kernel, Layer


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
        return FlattenKernel(node)


class FlattenKernel(Kernel):
    """Channels-last maps to PyTorch's channel-major flat order, and back."""

    def __init__(self, node):
        self.input_shape = tuple(node.input_shape)

    def make_stage(self, batch):
        return FlattenStage(self.input_shape, batch)


class FlattenStage:
    """One batch size of flatten: (N, H, W, C) -> (N, C H W) into a buffer (a reshape when C or H W is 1)."""

    def __init__(self, input_shape, batch):
        self.output_shape = (batch, int(np.prod(input_shape)))
        self.copied = len(input_shape) == 3 and input_shape[0] > 1 and input_shape[1] * input_shape[2] > 1
        self.flat = np.empty(self.output_shape) if self.copied else None

    def forward(self, x, params):
        if x.ndim == 2:  # already flat
            return x, x.shape
        if not self.copied:
            return x.reshape(self.output_shape), x.shape
        n, h, w, c = x.shape
        np.copyto(self.flat.reshape(n, c, h, w), x.transpose(0, 3, 1, 2))
        return self.flat, x.shape

    def backward(self, upstream, cache, params, gradients):
        if len(cache) == 2:
            return upstream
        n, h, w, c = cache
        return upstream.reshape(n, c, h, w).transpose(0, 2, 3, 1)
