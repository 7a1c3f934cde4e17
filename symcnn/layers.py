"""Layers: each one's shape rule, its symbolic template and how the template is instantiated.

A layer is described once, by a *template*: the expression of one generic output scalar
in generic symbols (patch inputs xi, kernel weights omega, bias beta, pre-activation
zeta, activation alpha). The template is differentiated once (see
:mod:`symcnn.differentiate`); instantiating it at an output position replaces the generic
symbols by the named scalars of the previous layer and of this layer's parameters.

>>> conv = Conv2D(1, 2, activation="sigmoid", bias=False)
>>> conv.output_shape((1, 4, 4))
(1, 3, 3)
>>> template = conv.template((1, 4, 4))
>>> template.weighted_sum
omega_0_0_0*xi_0_0_0 + omega_0_0_1*xi_0_0_1 + omega_0_1_0*xi_0_1_0 + omega_0_1_1*xi_0_1_1
>>> template.output
Sigmoid(zeta)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from inspect import signature

import numpy as np
import sympy

from .activations import activation_function, check_activation
from .checks import check_bool, check_int
from .functions import WindowMax
from .initializers import INITIALIZERS
from .naming import template_array, template_symbol

ZETA = template_symbol("pre_activation")
ALPHA = template_symbol("activation")

def _positive_pair(value, argument: str, layer: str, minimum: int = 1) -> tuple[int, int]:
    """Accept an int or a pair of ints >= ``minimum`` and return the pair."""
    pair = (value, value) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair)):
        raise TypeError(f"{layer}: {argument} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in pair):
        raise ValueError(f"{layer}: {argument} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _check_init(value, argument: str, layer: str) -> str:
    if value not in INITIALIZERS:
        raise ValueError(f"{layer}: {argument} must be one of {INITIALIZERS}, got {value!r}")
    return value


@dataclass
class LayerTemplate:
    """One generic output scalar of a layer, in template symbols.

    ``weighted_sum`` is zeta's expression (None for pooling), ``output`` is alpha's
    expression (in zeta for conv/dense, in the patch for pooling).
    """

    patch: np.ndarray
    kernel: np.ndarray | None
    bias: sympy.Symbol | None
    weighted_sum: sympy.Expr | None
    output: sympy.Expr
    partials: dict = field(default_factory=dict)


class Layer:
    """Base class: a layer maps an input shape (C, H, W) or (D,) to an output shape."""

    kind = "layer"
    has_parameters = False
    activation = None

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        raise NotImplementedError

    def parameter_shapes(self, input_shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
        return {}

    def template_size(self, input_shape: tuple[int, ...]) -> int:
        """Number of generic inputs (xi) in this layer's template; 0 for a layer without one.

        >>> Conv2D(4, 3).template_size((2, 9, 9)), Dense(3).template_size((50,)), Flatten().template_size((2, 3, 3))
        (18, 50, 0)
        """
        return 0

    def describe(self) -> str:
        return type(self).__name__

    def config(self) -> dict:
        """The constructor arguments that rebuild this layer, as a JSON-able dict.

        >>> Flatten().config()
        {}
        """
        return {}


def _window_output_size(size: int, window: int, stride: int, padding: int, layer: str, axis: str) -> int:
    padded = size + 2 * padding
    if window > padded:
        raise ValueError(f"{layer}: window {window} is larger than the {axis} of its input "
                         f"({size}{f' + 2*{padding} padding' if padding else ''})")
    return (padded - window) // stride + 1


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

    def __init__(self, filters, kernel_size, stride=1, padding=0, bias=True, activation=None,
                 shared_channels=False, init="glorot_uniform", bias_init="zeros"):
        name = "Conv2D"
        self.filters = check_int(filters, f"{name}: filters")
        self.kernel_size = _positive_pair(kernel_size, "kernel_size", name)
        self.stride = _positive_pair(stride, "stride", name)
        self.padding = _positive_pair(padding, "padding", name, minimum=0)
        self.bias = check_bool(bias, f"{name}: bias")
        self.activation = check_activation(activation)
        self.shared_channels = check_bool(shared_channels, f"{name}: shared_channels")
        self.init = _check_init(init, "init", name)
        self.bias_init = _check_init(bias_init, "bias_init", name)

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
        out_h = _window_output_size(height, self.kernel_size[0], self.stride[0], self.padding[0], self.describe(), "height")
        out_w = _window_output_size(width, self.kernel_size[1], self.stride[1], self.padding[1], self.describe(), "width")
        return (self.filters, out_h, out_w)

    def parameter_shapes(self, input_shape):
        channels = 1 if self.shared_channels else input_shape[0]
        shapes = {"weight": (self.filters, channels, *self.kernel_size)}
        if self.bias:
            shapes["bias"] = (self.filters,)
        return shapes

    def template_size(self, input_shape):
        return input_shape[0] * self.kernel_size[0] * self.kernel_size[1]

    def template(self, input_shape) -> LayerTemplate:
        """zeta = sum_{c,u,v} omega[c,u,v] xi[c,u,v] (+ beta); alpha = activation(zeta)."""
        patch = template_array("input", (input_shape[0], *self.kernel_size))
        kernel = template_array("weight", patch.shape)
        return _affine_template(patch, kernel, self.bias, self.activation)

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
                    mapping[_template_patch(c, u, v)] = inputs[c, row, col] if inside else sympy.S.Zero
                    mapping[_template_kernel(c, u, v)] = weights[f, 0 if self.shared_channels else c, u, v]
        if bias is not None:
            mapping[template_symbol("bias")] = bias[f]
        return mapping


def _template_patch(*index):
    return template_symbol("input", index)


def _template_kernel(*index):
    return template_symbol("weight", index)


def _affine_template(patch, kernel, has_bias, activation) -> LayerTemplate:
    bias = template_symbol("bias") if has_bias else None
    weighted_sum = sympy.Add(*[k * x for k, x in zip(kernel.flat, patch.flat)])
    if bias is not None:
        weighted_sum += bias
    output = activation_function(activation)(ZETA) if activation != "softmax" else ZETA
    return LayerTemplate(patch, kernel, bias, weighted_sum, output)


class Dense(Layer):
    """A fully connected layer: z[k] = sum_n w[k, n] x[n] + b[k], a[k] = activation(z[k]).

    ``activation="softmax"`` gives a[k] = e^{z_k} / sum_j e^{z_j} and is allowed on the last
    layer only, where it is joined with the loss for a stable evaluation.

    >>> Dense(10).parameter_shapes((648,))
    {'weight': (10, 648), 'bias': (10,)}
    """

    kind = "dense"
    has_parameters = True

    def __init__(self, units, bias=True, activation=None, init="glorot_uniform", bias_init="zeros"):
        name = "Dense"
        self.units = check_int(units, f"{name}: units")
        self.bias = check_bool(bias, f"{name}: bias")
        self.activation = check_activation(activation)
        self.init = _check_init(init, "init", name)
        self.bias_init = _check_init(bias_init, "bias_init", name)

    def config(self) -> dict:
        """The constructor arguments that rebuild this layer, as a JSON-able dict.

        >>> Dense(10, activation="softmax").config()
        {'units': 10, 'bias': True, 'activation': 'softmax', 'init': 'glorot_uniform', 'bias_init': 'zeros'}
        """
        return {"units": self.units, "bias": self.bias, "activation": self.activation,
                "init": self.init, "bias_init": self.bias_init}

    def describe(self) -> str:
        return f"Dense {self.units} ({'bias' if self.bias else 'no bias'}), {self.activation or 'no activation'}"

    def output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(f"{self.describe()}: needs a flat input (add Flatten() before it), "
                             f"got shape {input_shape}")
        return (self.units,)

    def parameter_shapes(self, input_shape):
        shapes = {"weight": (self.units, input_shape[0])}
        if self.bias:
            shapes["bias"] = (self.units,)
        return shapes

    def template_size(self, input_shape):
        return input_shape[0]

    def template(self, input_shape) -> LayerTemplate:
        """zeta = sum_n omega[n] xi[n] (+ beta); alpha = activation(zeta)."""
        patch = template_array("input", input_shape)
        kernel = template_array("weight", input_shape)
        return _affine_template(patch, kernel, self.bias, self.activation)

    def substitution(self, position, inputs, weights, bias) -> dict:
        (k,) = position
        mapping = {}
        for n in range(inputs.shape[0]):
            mapping[_template_patch(n)] = inputs[n]
            mapping[_template_kernel(n)] = weights[k, n]
        if bias is not None:
            mapping[template_symbol("bias")] = bias[k]
        return mapping


class _Pool2D(Layer):
    kind = "pool"
    mode = ""

    def __init__(self, size, stride=None):
        name = type(self).__name__
        self.size = _positive_pair(size, "size", name)
        self.stride = self.size if stride is None else _positive_pair(stride, "stride", name)

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
                _window_output_size(height, self.size[0], self.stride[0], 0, self.describe(), "height"),
                _window_output_size(width, self.size[1], self.stride[1], 0, self.describe(), "width"))

    def template_size(self, input_shape):
        return self.size[0] * self.size[1]

    def template(self, input_shape) -> LayerTemplate:
        patch = template_array("input", self.size)
        return LayerTemplate(patch, None, None, None, self.pool_expression(list(patch.flat)))

    def pool_expression(self, window):
        raise NotImplementedError

    def substitution(self, position, inputs, weights=None, bias=None) -> dict:
        c, i, j = position
        return {_template_patch(u, v): inputs[c, self.stride[0] * i + u, self.stride[1] * j + v]
                for u in range(self.size[0]) for v in range(self.size[1])}


class MaxPool2D(_Pool2D):
    """Max pooling: a[c, i, j] = max over the window; its partial picks the first maximum.

    >>> MaxPool2D(2).output_shape((8, 28, 28))
    (8, 14, 14)
    >>> MaxPool2D(2).template((1, 4, 4)).output
    WindowMax(xi_0_0, xi_0_1, xi_1_0, xi_1_1)
    """

    mode = "max"

    def pool_expression(self, window):
        return WindowMax(*window)


class AvgPool2D(_Pool2D):
    """Average pooling: a[c, i, j] = mean over the window; each partial is 1/(window area).

    >>> AvgPool2D(2, stride=1).output_shape((1, 4, 4))
    (1, 3, 3)
    """

    mode = "avg"

    def pool_expression(self, window):
        return sympy.Add(*window) / len(window)


class Flatten(Layer):
    """Flatten (C, H, W) to (C*H*W,) in channel-major order, as PyTorch does.

    >>> Flatten().output_shape((1, 15, 15))
    (225,)
    """

    kind = "flatten"

    def output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)


#: Layer class name -> class, for rebuilding saved networks.
LAYER_TYPES = {layer.__name__: layer for layer in (Conv2D, Dense, MaxPool2D, AvgPool2D, Flatten)}


def layer_from_config(layer_type: str, config: dict) -> Layer:
    """Rebuild a layer from its class name and its :meth:`Layer.config` (validated again).

    >>> layer_from_config("Conv2D", Conv2D(8, 3, padding=1).config()).describe()
    'Conv2D 8x3x3 (padding (1, 1), bias), no activation'

    Parameters: ``layer_type``, a key of :data:`LAYER_TYPES` (``"Conv2D"``, ``"Dense"``,
    ``"MaxPool2D"``, ``"AvgPool2D"``, ``"Flatten"``); ``config``, its constructor
    arguments. Raises ``ValueError`` for an unknown type or unknown arguments.
    """
    if not isinstance(layer_type, str) or layer_type not in LAYER_TYPES:
        raise ValueError(f"unknown layer type {layer_type!r}; expected one of {', '.join(LAYER_TYPES)}")
    if not isinstance(config, dict) or not all(isinstance(key, str) for key in config):
        raise ValueError(f"{layer_type}: config must be a dict of constructor arguments, got {config!r}")
    try:
        signature(LAYER_TYPES[layer_type]).bind(**config)
    except TypeError as error:
        raise ValueError(f"{layer_type}: config {config!r} does not match its constructor ({error})") from None
    return LAYER_TYPES[layer_type](**config)
