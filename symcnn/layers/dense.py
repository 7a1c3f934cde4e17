"""Dense: its shape rule, template, substitution, numeric kernel and rolled indexing.

>>> Dense(2, bias=False).template((3,)).weighted_sum
Sum(omega[n]*xi[n], (n, 0, 2))
"""

from __future__ import annotations

import math

import numpy as np

from ..activations import check_activation
from ..checks import check_bool, check_int
from ..naming import template_symbol
from .base import (INDEX, Kernel, Layer, LayerTemplate, RolledIndexing, affine_template, check_affine_structure,
                   check_init, gradient_target, template_kernel, template_patch)


class Dense(Layer):
    """A fully connected layer: z[k] = sum_n w[k, n] x[n] + b[k], a[k] = activation(z[k]).

    ``activation="softmax"`` gives a[k] = e^{z_k} / sum_j e^{z_j} and is allowed on the last
    layer only, where it is joined with the loss for a stable evaluation.

    >>> Dense(10).parameter_shapes((648,))
    {'weight': (10, 648), 'bias': (10,)}
    """

    kind = "dense"
    has_parameters = True
    has_weighted_sum = True

    def __init__(self, units, bias=True, activation=None, init="glorot_uniform", bias_init="zeros"):
        name = "Dense"
        self.units = check_int(units, f"{name}: units")
        self.bias = check_bool(bias, f"{name}: bias")
        self.activation = check_activation(activation)
        self.init = check_init(init, "init", name)
        self.bias_init = check_init(bias_init, "bias_init", name)

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

    def fans(self, shape, convention):
        """``"standard"`` (PyTorch's): in and out features; ``"reference"``: every weight of the layer in, the units out.

        >>> Dense(10).fans((10, 1568), "standard"), Dense(10).fans((10, 1568), "reference")
        ((1568, 10), (15680, 10))
        """
        if convention == "reference":
            return math.prod(shape), shape[0]
        return shape[1], shape[0]

    def template(self, input_shape) -> LayerTemplate:
        """zeta = sum_n omega[n] xi[n] (+ beta); alpha = activation(zeta)."""
        return affine_template(input_shape, "n", self.bias, self.activation)

    def substitution(self, position, inputs, weights, bias) -> dict:
        (k,) = position
        mapping = {}
        for n in range(inputs.shape[0]):
            mapping[template_patch(n)] = inputs[n]
            mapping[template_kernel(n)] = weights[k, n]
        if bias is not None:
            mapping[template_symbol("bias")] = bias[k]
        return mapping

    def positions_reading(self, index, input_shape, output_shape):
        """Every unit reads every input."""
        return [(k,) for k in range(output_shape[0])]

    def kernel(self, node, template, needs_input_gradient):
        """:class:`DenseKernel`: z = x W^T + b as one matrix product."""
        check_affine_structure(node.name, template)
        return DenseKernel(node, needs_input_gradient)

    def rolled_indexing(self, node, x_base, w_base) -> RolledIndexing:
        """z[k] = sum_n w[k, n] x[n] (+ b[k])."""
        k, n = INDEX["k"], INDEX["n"]
        return RolledIndexing(position=(k,), unit=k, x_entry=x_base[n], w_entry=w_base[k, n],
                              summed=((n, 0, node.input_shape[0] - 1),), weight_indices=(k, n))


class DenseKernel(Kernel):
    """Dense layer, numerically: z = x W^T + b as one matrix product; the same contraction backwards."""

    def __init__(self, node, needs_input_gradient):
        self.keys = node.parameter_keys()
        self.units, self.inputs = node.output_shape[0], node.input_shape[0]
        self.needs_input_gradient = needs_input_gradient

    def make_stage(self, batch):
        return DenseStage(self, batch)


class DenseStage:
    """One batch size of a dense layer: its z and dL/dx buffers."""

    def __init__(self, kernel, batch):
        self.kernel, self.output_shape = kernel, (batch, kernel.units)
        self.z = np.empty(self.output_shape)
        self.ones = np.ones(batch)  # the bias gradient sums dL/dz over the batch: ones @ dL/dz
        self.dx = np.empty((batch, kernel.inputs)) if kernel.needs_input_gradient else None

    def forward(self, x, params):
        keys = self.kernel.keys
        np.matmul(x, params[keys["weight"]].T, out=self.z)
        if "bias" in keys:
            np.add(self.z, params[keys["bias"]], out=self.z)
        return self.z, x

    def backward(self, dz, x, params, gradients):
        keys = self.kernel.keys
        weight = params[keys["weight"]]
        np.matmul(dz.T, x, out=gradient_target(gradients, keys["weight"], weight.shape))  # sum over the batch
        if "bias" in keys:
            np.matmul(self.ones, dz, out=gradient_target(gradients, keys["bias"], (self.kernel.units,)))
        return np.matmul(dz, weight, out=self.dx) if self.kernel.needs_input_gradient else None
