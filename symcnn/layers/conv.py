"""Conv2D: its shape rule, template, substitution, numeric kernel and rolled indexing.

>>> conv = Conv2D(1, 2, activation="sigmoid", bias=False)
>>> conv.output_shape((1, 4, 4))
(1, 3, 3)
>>> template = conv.template((1, 4, 4))
>>> template.weighted_sum
Sum(omega[c, u, v]*xi[c, u, v], (c, 0, 0), (u, 0, 1), (v, 0, 1))
>>> template.expanded_weighted_sum()
omega_0_0_0*xi_0_0_0 + omega_0_0_1*xi_0_0_1 + omega_0_1_0*xi_0_1_0 + omega_0_1_1*xi_0_1_1
>>> template.output
Sigmoid(zeta)
"""

from __future__ import annotations

import math

import numpy as np
import sympy

from ..activations import check_activation
from ..checks import check_bool, check_int
from ..naming import template_symbol
from .base import (INDEX, Layer, LayerTemplate, RolledIndexing, affine_template, check_affine_structure, check_init,
                   positive_pair, template_kernel, template_patch, window_output_size,
                   window_positions)
from .windows import WindowIndex


class Conv2D(Layer):
    """A 2-D convolution (cross-correlation, as in PyTorch) with an optional activation.

    z[f, i, j] = sum_{c,u,v} w[f, c, u, v] * x[c, s*i + u - p, s*j + v - p] + b[f],
    a[f, i, j] = activation(z[f, i, j]). With ``shared_channels=True`` each filter is one
    kernel applied identically to every input channel (weights (F, 1, kh, kw)), as in
    network D.

    >>> Conv2D(8, 3, padding=1, stride=2).output_shape((3, 28, 28))
    (8, 14, 14)
    >>> Conv2D(5, 5, shared_channels=True, bias=False).parameter_shapes((5, 25, 25))
    {'weight': (5, 1, 5, 5)}

    Parameters: ``filters`` (F), ``kernel_size`` (int or pair), ``stride``, ``padding``
    (zeros, int or pair), ``bias``, ``activation`` (a name in
    :data:`symcnn.activations.ACTIVATIONS` or a :class:`~symcnn.activations.Activation`),
    ``shared_channels``, ``init`` (weights) and ``bias_init``.
    """

    kind = "conv"
    has_parameters = True
    has_weighted_sum = True

    def __init__(self, filters, kernel_size, stride=1, padding=0, bias=True, activation=None,
                 shared_channels=False, init="glorot_uniform", bias_init="zeros"):
        name = "Conv2D"
        self.filters = check_int(filters, f"{name}: filters")
        self.kernel_size = positive_pair(kernel_size, "kernel_size", name)
        self.stride = positive_pair(stride, "stride", name)
        self.padding = positive_pair(padding, "padding", name, minimum=0)
        self.bias = check_bool(bias, f"{name}: bias")
        self.activation = check_activation(activation)
        self.shared_channels = check_bool(shared_channels, f"{name}: shared_channels")
        self.init = check_init(init, "init", name)
        self.bias_init = check_init(bias_init, "bias_init", name)

    def config(self) -> dict:
        """The constructor arguments that rebuild this layer, as a JSON-able dict (a user-defined
        :class:`~symcnn.activations.Activation` stays an object; :mod:`symcnn.persistence` writes it as data).

        >>> Conv2D(8, 3, stride=2, activation="relu").config()["stride"]
        [2, 2]
        """
        return {"filters": self.filters, "kernel_size": list(self.kernel_size), "stride": list(self.stride),
                "padding": list(self.padding), "bias": self.bias, "activation": self.activation,
                "shared_channels": self.shared_channels, "init": self.init, "bias_init": self.bias_init}

    def describe(self) -> str:
        kh, kw = self.kernel_size
        extras = [f"stride {self.stride}" if self.stride != (1, 1) else "",
                  f"padding {self.padding}" if self.padding != (0, 0) else "",
                  "shared channels" if self.shared_channels else "", "bias" if self.bias else "no bias"]
        extras = ", ".join(e for e in extras if e)
        return f"Conv2D {self.filters}x{kh}x{kw} ({extras}), {self.activation or 'no activation'}"

    def output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{self.describe()}: needs a (channels, height, width) input, got shape {input_shape}")
        _, height, width = input_shape
        out_h = window_output_size(height, self.kernel_size[0], self.stride[0], self.padding[0], self.describe(), "height")
        out_w = window_output_size(width, self.kernel_size[1], self.stride[1], self.padding[1], self.describe(), "width")
        return (self.filters, out_h, out_w)

    def parameter_shapes(self, input_shape):
        channels = 1 if self.shared_channels else input_shape[0]
        shapes = {"weight": (self.filters, channels, *self.kernel_size)}
        if self.bias:
            shapes["bias"] = (self.filters,)
        return shapes

    def template_size(self, input_shape):
        return input_shape[0] * self.kernel_size[0] * self.kernel_size[1]

    def fans(self, shape, convention):
        """``"standard"`` (PyTorch's): C kh kw and F kh kw; ``"reference"``: every weight of the layer in, 1 out
        (network A: sqrt(6/(9 + 1)) for its 3x3 kernel, network D: sqrt(6/(5*3*3 + 1))).

        >>> Conv2D(5, 3).fans((5, 1, 3, 3), "reference"), Conv2D(5, 3).fans((5, 1, 3, 3), "standard")
        ((45, 1), (9, 45))
        """
        if convention == "reference":
            return math.prod(shape), 1
        receptive = math.prod(shape[2:])
        return shape[1] * receptive, shape[0] * receptive

    def template(self, input_shape) -> LayerTemplate:
        """zeta = sum_{c,u,v} omega[c,u,v] xi[c,u,v] (+ beta); alpha = activation(zeta)."""
        return affine_template((input_shape[0], *self.kernel_size), "cuv", self.bias, self.activation)

    def substitution(self, position, inputs, weights, bias) -> dict:
        """Template symbol -> named scalar (or 0 in the zero padding) at output ``position``."""
        f, i, j = position
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        channels, height, width = inputs.shape
        mapping = {}
        for c in range(channels):
            for u in range(kh):
                for v in range(kw):
                    row, col = sh * i + u - ph, sw * j + v - pw
                    inside = 0 <= row < height and 0 <= col < width
                    mapping[template_patch(c, u, v)] = inputs[c, row, col] if inside else sympy.S.Zero
                    mapping[template_kernel(c, u, v)] = weights[f, 0 if self.shared_channels else c, u, v]
        if bias is not None:
            mapping[template_symbol("bias")] = bias[f]
        return mapping

    def positions_reading(self, index, input_shape, output_shape):
        """Every filter's positions whose window covers input entry (c, row, column)."""
        _, row, column = index
        rows = window_positions(row, self.kernel_size[0], self.stride[0], self.padding[0], output_shape[1])
        columns = window_positions(column, self.kernel_size[1], self.stride[1], self.padding[1], output_shape[2])
        return [(f, i, j) for f in range(output_shape[0]) for i in rows for j in columns]

    def kernel(self, node, template, needs_input_gradient):
        """:class:`ConvKernel`: im2col contraction for z and the contractions back."""
        check_affine_structure(node.name, template)
        return ConvKernel(node, needs_input_gradient)

    def rolled_indexing(self, node, x_base, w_base) -> RolledIndexing:
        """z[f, i, j] = sum_{c,u,v} w[f, c, u, v] x[c, s i + u - p, s j + v - p] (+ b[f])."""
        f, c, i, j, u, v = (INDEX[name] for name in "fcijuv")
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        # the weight's own indices fix the summation indices, except c for a shared kernel
        weight_indices = (f, 0, u, v) if self.shared_channels else (f, c, u, v)
        return RolledIndexing(
            position=(f, i, j), unit=f, x_entry=x_base[c, sh * i + u - ph, sw * j + v - pw],
            w_entry=w_base[f, 0 if self.shared_channels else c, u, v],
            summed=((c, 0, node.input_shape[0] - 1), (u, 0, kh - 1), (v, 0, kw - 1)), weight_indices=weight_indices,
            positions_summed=((i, 0, node.output_shape[1] - 1), (j, 0, node.output_shape[2] - 1)))


class ConvKernel:
    """Conv layer, numerically: im2col contraction for z, contractions back to w, b and x."""

    activation = None

    def __init__(self, node, needs_input_gradient):
        layer = node.layer
        self.keys = node.parameter_keys()
        self.kernel_size = layer.kernel_size
        self.shared = layer.shared_channels
        self.channels = node.input_shape[0]
        self.windows = WindowIndex(node.input_shape, layer.kernel_size, layer.stride, layer.padding)
        self.needs_input_gradient = needs_input_gradient

    def _kernel_matrix(self, weight):
        filters = weight.shape[0]
        if self.shared:  # one kernel per filter, repeated along the input channels
            weight = np.broadcast_to(weight, (filters, self.channels, *self.kernel_size))
        return weight.reshape(filters, -1)

    def forward(self, x, params):
        columns = self.windows.gather(x)  # (N, positions, (c, u, v))
        n = columns.shape[0]
        columns = columns.reshape(-1, columns.shape[2])
        weight = params[self.keys["weight"]]
        z = columns @ self._kernel_matrix(weight).T
        if "bias" in self.keys:
            z += params[self.keys["bias"]]
        return z.reshape(n, *self.windows.output_grid, weight.shape[0]), columns

    def backward(self, dz, columns, params, gradients):
        weight = params[self.keys["weight"]]
        filters = weight.shape[0]
        dz_rows = dz.reshape(-1, filters)
        # dL/dw[f,c,u,v] = sum over positions of dL/dz[f,i,j] * x[c, s i + u, s j + v]
        weight_gradient = (dz_rows.T @ columns).reshape(filters, self.channels, *self.kernel_size)
        if self.shared:  # a shared weight's gradient is the sum over the channels it serves
            weight_gradient = weight_gradient.sum(axis=1, keepdims=True)
        gradients[self.keys["weight"]] = weight_gradient
        if "bias" in self.keys:
            gradients[self.keys["bias"]] = dz_rows.sum(axis=0)
        if not self.needs_input_gradient:
            return None
        # dL/dx[c,r,q] = sum over the windows holding x[c,r,q] of dL/dz * w at that entry
        window_gradient = dz_rows @ self._kernel_matrix(weight)
        return self.windows.scatter(window_gradient.reshape(dz.shape[0], -1, window_gradient.shape[1]))
