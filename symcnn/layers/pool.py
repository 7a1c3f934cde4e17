"""MaxPool2D and AvgPool2D: their shape rule, template, substitution, numeric kernel and rolled indexing.

>>> MaxPool2D(2).template((1, 4, 4)).output
WindowMax(xi_0_0, xi_0_1, xi_1_0, xi_1_1)
"""

from __future__ import annotations

import numpy as np
import sympy

from ..functions import FirstMax, WindowMax
from ..naming import template_array
from .base import (INDEX, Kernel, Layer, LayerTemplate, RolledIndexing, positive_pair, template_patch,
                   window_output_size, window_positions)
from .windows import WindowIndex


class Pool2D(Layer):
    """What max and average pooling share: windows of ``size`` moved by ``stride`` over each channel.

    Parameters: ``size`` (int or pair), ``stride`` (int or pair; default ``size``).
    """

    kind = "pool"
    mode = ""

    def __init__(self, size, stride=None):
        name = type(self).__name__
        self.size = positive_pair(size, "size", name)
        self.stride = self.size if stride is None else positive_pair(stride, "stride", name)

    def config(self) -> dict:
        """The constructor arguments that rebuild this layer, as a JSON-able dict.

        >>> MaxPool2D(2).config()
        {'size': [2, 2], 'stride': [2, 2]}
        """
        return {"size": list(self.size), "stride": list(self.stride)}

    def describe(self) -> str:
        return f"{type(self).__name__} {self.size[0]}x{self.size[1]} stride {self.stride}"

    def output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{self.describe()}: needs a (channels, height, width) input, got shape {input_shape}")
        channels, height, width = input_shape
        return (channels,
                window_output_size(height, self.size[0], self.stride[0], 0, self.describe(), "height"),
                window_output_size(width, self.size[1], self.stride[1], 0, self.describe(), "width"))

    def template_size(self, input_shape):
        return self.size[0] * self.size[1]

    def template(self, input_shape) -> LayerTemplate:
        patch = template_array("input", self.size)
        return LayerTemplate(patch, None, None, None, self.pool_expression(list(patch.flat)))

    def pool_expression(self, window):
        raise NotImplementedError

    def window_partials_match(self, partials) -> bool:
        """Whether the derived partials d a / d xi_k of a window have the form the kernel routes by."""
        raise NotImplementedError

    def substitution(self, position, inputs, weights=None, bias=None) -> dict:
        c, i, j = position
        return {template_patch(u, v): inputs[c, self.stride[0] * i + u, self.stride[1] * j + v]
                for u in range(self.size[0]) for v in range(self.size[1])}

    def positions_reading(self, index, input_shape, output_shape):
        """The positions of the entry's own channel whose window covers it."""
        c, row, column = index
        rows = window_positions(row, self.size[0], self.stride[0], 0, output_shape[1])
        columns = window_positions(column, self.size[1], self.stride[1], 0, output_shape[2])
        return [(c, i, j) for i in rows for j in columns]

    def kernel(self, node, template, needs_input_gradient):
        """:class:`PoolKernel`, once the derived partials confirm the routing its backward pass uses."""
        partials = [template.partials["output"][xi] for xi in template.patch.flat]
        if not self.window_partials_match(partials):
            raise NotImplementedError(f"{node.name}: pooling partials of an unexpected form")
        return PoolKernel(node, needs_input_gradient)

    def rolled_indexing(self, node, x_base, w_base=None) -> RolledIndexing:
        """a[c, i, j] = pool over u, v of x[c, s i + u, s j + v]."""
        c, i, j = INDEX["c"], INDEX["i"], INDEX["j"]
        sh, sw = self.stride
        window = {node.template.patch[e]: x_base[c, sh * i + e[0], sw * j + e[1]]
                  for e in np.ndindex(*node.template.patch.shape)}
        return RolledIndexing(position=(c, i, j), window=window)


class MaxPool2D(Pool2D):
    """Max pooling: a[c, i, j] = max over the window; its partial picks the first maximum.

    >>> MaxPool2D(2).output_shape((8, 28, 28))
    (8, 14, 14)
    >>> MaxPool2D(2).template((1, 4, 4)).output
    WindowMax(xi_0_0, xi_0_1, xi_1_0, xi_1_1)
    """

    mode = "max"

    def pool_expression(self, window):
        return WindowMax(*window)

    def window_partials_match(self, partials) -> bool:
        return all(p.func is FirstMax and p.args[0] == k for k, p in enumerate(partials))


class AvgPool2D(Pool2D):
    """Average pooling: a[c, i, j] = mean over the window; each partial is 1/(window area).

    >>> AvgPool2D(2, stride=1).output_shape((1, 4, 4))
    (1, 3, 3)
    """

    mode = "avg"

    def pool_expression(self, window):
        return sympy.Add(*window) / len(window)

    def window_partials_match(self, partials) -> bool:
        return all(p == sympy.Rational(1, len(partials)) for p in partials)


class PoolKernel(Kernel):
    """Pooling, numerically: window maximum (gradient to the first maximum) or mean (gradient spread).

    Non-overlapping windows (stride = size) are a reshape of the map (:class:`TiledPoolStage`);
    others are gathered by index (:class:`GatheredPoolStage`).
    """

    def __init__(self, node, needs_input_gradient):
        self.mode = node.layer.mode
        self.size, self.stride = node.layer.size, node.layer.stride
        self.area = self.size[0] * self.size[1]
        self.input_shape, self.output_shape = tuple(node.input_shape), tuple(node.output_shape)
        self.needs_input_gradient = needs_input_gradient

    def make_stage(self, batch):
        return (TiledPoolStage if self.size == self.stride else GatheredPoolStage)(self, batch)


class TiledPoolStage:
    """Non-overlapping windows of one batch size: the map (N, H, W, C) viewed as (N, I, kh, J, kw, C),
    pooled by elementwise operations over the kh kw window entries (NumPy's reductions over short
    axes are slow), the first maximum found by clearing later ties."""

    def __init__(self, kernel, batch):
        self.kernel = kernel
        channels, height, width = kernel.input_shape
        _, rows, columns = kernel.output_shape
        (kh, kw), self.area = kernel.size, kernel.area
        self.tiles = (batch, rows, kh, columns, kw, channels)
        self.crop = (slice(None), slice(0, rows * kh), slice(0, columns * kw))
        self.entries = [(slice(None), slice(None), u, slice(None), v) for u in range(kh) for v in range(kw)]
        self.output_shape = (batch, rows, columns, channels)
        self.z = np.empty(self.output_shape)
        if kernel.needs_input_gradient:
            self.dx = np.zeros((batch, height, width, channels))  # zero outside the windows, if they do not cover it
            self.maximal = np.empty(self.tiles, dtype=bool)
            self.seen = np.empty((2, *self.output_shape), dtype=bool)

    def _tiled(self, x):
        """(N, I, kh, J, kw, C) view of the windows of ``x`` (N, H, W, C)."""
        return x[self.crop].reshape(self.tiles)

    def forward(self, x, params):
        tiled = self._tiled(x)
        entries = [tiled[entry] for entry in self.entries]
        combine = np.maximum if self.kernel.mode == "max" else np.add
        combine(entries[0], entries[1], out=self.z) if len(entries) > 1 else np.copyto(self.z, entries[0])
        for entry in entries[2:]:
            combine(self.z, entry, out=self.z)
        if self.kernel.mode == "avg":
            np.divide(self.z, self.area, out=self.z)
        return self.z, (x, self.z)

    def backward(self, upstream, cache, params, gradients):
        if not self.kernel.needs_input_gradient:
            return None
        tiled, spread = self._tiled(self.dx), upstream[:, :, None, :, None, :]
        if self.kernel.mode == "avg":  # d mean / d x_k = 1 / area
            np.divide(spread, self.area, out=tiled)
            return self.dx
        # d max / d x_k = 1 for the first maximal entry k of the window (FirstMax), else 0
        x, z = cache
        np.equal(self._tiled(x), z[:, :, None, :, None, :], out=self.maximal)
        maximal = [self.maximal[entry] for entry in self.entries]
        seen = maximal[0]  # whether an earlier entry of the window is maximal (two buffers alternate)
        for k, entry in enumerate(maximal[1:], start=1):
            if k < len(maximal) - 1:
                updated = np.logical_or(seen, entry, out=self.seen[k % 2])
            np.greater(entry, seen, out=entry)  # maximal and no earlier entry was
            if k < len(maximal) - 1:
                seen = updated
        np.multiply(self.maximal, spread, out=tiled)
        return self.dx


class GatheredPoolStage:
    """Windows of one batch size gathered by index (overlapping or strided): (N, positions, C, area)."""

    def __init__(self, kernel, batch):
        self.kernel = kernel
        # one window per (position, channel): pool each channel as its own 1-channel map
        self.windows = WindowIndex(kernel.input_shape, kernel.size, kernel.stride, (0, 0))
        channels = kernel.input_shape[0]
        self.index = self.windows.batched(batch).reshape(batch, -1, channels, kernel.area)
        self.gathered = np.empty(self.index.shape)
        _, rows, columns = kernel.output_shape
        self.output_shape = (batch, rows, columns, channels)
        self.z = np.empty(self.output_shape)
        self.z_windows = self.z.reshape(self.index.shape[:3])
        self.first = np.empty(self.index.shape[:3], dtype=np.intp)
        self.position, self.read = np.empty(self.first.shape, dtype=np.intp), np.empty(self.first.shape, dtype=np.intp)
        self.window_starts = np.arange(self.first.size).reshape(self.first.shape) * kernel.area
        self.spread = np.empty(self.index.shape)
        self.input_size = batch * self.windows.size

    def forward(self, x, params):
        np.take(x.reshape(-1), self.index, out=self.gathered, mode="clip")
        if self.kernel.mode == "max":
            np.argmax(self.gathered, axis=-1, out=self.first)  # the first maximum of each window
            np.max(self.gathered, axis=-1, out=self.z_windows)
            return self.z, self.first
        np.sum(self.gathered, axis=-1, out=self.z_windows)
        np.divide(self.z_windows, self.kernel.area, out=self.z_windows)
        return self.z, None

    def backward(self, upstream, first, params, gradients):
        if not self.kernel.needs_input_gradient:
            return None
        upstream = upstream.reshape(self.first.shape)
        if self.kernel.mode == "max":  # d max / d x_k = 1 for the first maximal entry, else 0
            np.take(self.index.reshape(-1), np.add(self.window_starts, first, out=self.position), out=self.read)
            sums = np.bincount(self.read.reshape(-1), weights=upstream.reshape(-1), minlength=self.input_size)
        else:  # d mean / d x_k = 1 / area
            np.divide(upstream[..., None], self.kernel.area, out=self.spread)
            sums = np.bincount(self.index.reshape(-1), weights=self.spread.reshape(-1), minlength=self.input_size)
        height, width, channels = self.windows.input_shape
        return sums.reshape(-1, height, width, channels)
