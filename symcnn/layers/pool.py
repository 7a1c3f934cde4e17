"""MaxPool2D and AvgPool2D: their shape rule, template, substitution, numeric kernel and rolled indexing.

>>> MaxPool2D(2).template((1, 4, 4)).output
WindowMax(xi_0_0, xi_0_1, xi_1_0, xi_1_1)
"""

from __future__ import annotations

import numpy as np
import sympy

from ..functions import FirstMax, WindowMax
from ..naming import template_array
from .base import (INDEX, Layer, LayerTemplate, RolledIndexing, positive_pair, template_patch, window_output_size,
                   window_positions)
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


class PoolKernel:
    """Pooling, numerically: window maximum (gradient to the first maximum) or mean (gradient spread)."""

    activation = None

    def __init__(self, node, needs_input_gradient):
        self.mode = node.layer.mode
        self.area = node.layer.size[0] * node.layer.size[1]
        # one window per (position, channel): pool each channel as its own 1-channel map
        self.windows = WindowIndex(node.input_shape, node.layer.size, node.layer.stride, (0, 0))
        self.channels = node.input_shape[0]
        self.needs_input_gradient = needs_input_gradient

    def forward(self, x, params):
        columns = self.windows.gather(x)  # (N, positions, (c, u, v))
        n, positions, _ = columns.shape
        windows = columns.reshape(n, positions, self.channels, self.area)
        if self.mode == "max":
            first_max = windows.argmax(axis=-1)[..., None]
            pooled = np.take_along_axis(windows, first_max, axis=-1)[..., 0]
        else:
            first_max, pooled = None, windows.mean(axis=-1)
        return pooled.reshape(n, *self.windows.output_grid, self.channels), first_max

    def backward(self, upstream, first_max, params, gradients):
        if not self.needs_input_gradient:
            return None
        n = upstream.shape[0]
        upstream = upstream.reshape(n, -1, self.channels, 1)
        if self.mode == "max":  # d max / d x_k = 1 for the first maximal entry, else 0
            spread = np.zeros((*upstream.shape[:3], self.area))
            np.put_along_axis(spread, first_max, upstream, axis=-1)
        else:  # d mean / d x_k = 1 / area
            spread = np.broadcast_to(upstream / self.area, (*upstream.shape[:3], self.area))
        return self.windows.scatter(spread.reshape(n, upstream.shape[1], -1))
