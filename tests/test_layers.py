"""symcnn/layers/: each kind's kernel compiles only the form its derived template has (a template of
another form is refused, naming the layer), and the package exports what the rest of symcnn imports."""

from dataclasses import replace

import numpy as np
import pytest
import sympy

import symcnn.layers as layers
from symcnn.differentiate import derive_template
from symcnn.graph import SymbolicGraph
from symcnn.layers import KERNEL, PATCH, AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D


def _graph():
    return SymbolicGraph((1, 4, 4), [Conv2D(1, 2, activation="sigmoid"), MaxPool2D(1), Flatten(),
                                     Dense(1, activation="sigmoid")], "bce")


def _squared_inputs(template, written_out):
    """The same template with z = sum_k omega_k xi_k^2 (+ beta): not a weighted sum; as an indexed
    sum (derived at the generic index) or written out term by term."""
    if written_out:
        terms = sympy.Add(*[k * x ** 2 for k, x in zip(template.kernel.flat, template.patch.flat)])
        template = replace(template, generic_index=())
    else:  # square every patch entry inside the sum
        terms = template.weighted_sum.replace(lambda e: isinstance(e, sympy.Indexed) and e.base == PATCH,
                                              lambda e: e ** 2)
        assert terms != template.weighted_sum
    if template.bias is not None and written_out:
        terms += template.bias
    return derive_template(replace(template, weighted_sum=terms, partials={}))


@pytest.mark.parametrize("written_out", [False, True])
@pytest.mark.parametrize("index", [0, 3])
def test_affine_kernels_refuse_a_template_that_is_not_a_weighted_sum(index, written_out):
    node = _graph().nodes[index]
    kernel = node.layer.kernel(node, derive_template(node.template), needs_input_gradient=True)
    assert kernel.activation is None  # the evaluator adds the activation
    squared = _squared_inputs(node.template, written_out)
    if not written_out:  # the derivation at the generic index k sees the square: dz/d omega_k = xi_k^2
        k = squared.generic_index
        assert squared.partials["weighted_sum"].generic[KERNEL[k]] == PATCH[k] ** 2
    with pytest.raises(NotImplementedError, match=f"{node.name}: the fast path compiles weighted sums only"):
        node.layer.kernel(node, squared, needs_input_gradient=True)


def test_each_kind_names_the_positions_that_read_an_input_as_its_substitution_does():
    graph = SymbolicGraph((2, 7, 7), [Conv2D(2, 3, stride=2, padding=1), MaxPool2D(2, stride=1), Flatten(),
                                      Dense(3, activation="sigmoid")], "bce")
    for node in graph.layer_nodes:
        for index in np.ndindex(*node.input_shape):
            symbol = node.inputs[index]
            by_substitution = [p for p in node.positions() if symbol in node.substitution(p).values()]
            assert node.positions_reading(symbol) == by_substitution, (node.name, index)


@pytest.mark.parametrize("layer, other", [(MaxPool2D(2), AvgPool2D(2)), (AvgPool2D(2), MaxPool2D(2))])
def test_pooling_kernels_refuse_the_other_pooling_partials(layer, other):
    graph = SymbolicGraph((1, 4, 4), [layer, Flatten(), Dense(1, activation="sigmoid")], "bce")
    node = graph.nodes[0]
    assert layer.kernel(node, derive_template(node.template), needs_input_gradient=True).mode == layer.mode
    with pytest.raises(NotImplementedError, match=f"{node.name}: pooling partials of an unexpected form"):
        layer.kernel(node, derive_template(other.template(node.input_shape)), needs_input_gradient=True)


def test_flatten_kernel_round_trips_to_channel_major_order():
    x = np.arange(24.0).reshape(2, 3, 2, 2)  # channels-last (N, H, W, C)
    node = SymbolicGraph((2, 3, 2), [Flatten(), Dense(1, activation="sigmoid")], "bce").nodes[0]
    stage = Flatten().kernel(node, None, needs_input_gradient=True).new_stage(2)
    flat, cache = stage.forward(x, {})
    np.testing.assert_array_equal(flat, x.transpose(0, 3, 1, 2).reshape(2, -1))  # PyTorch's (c, h, w) order
    np.testing.assert_array_equal(stage.backward(flat, cache, {}, {}), x)


def test_the_package_exports_every_public_name():
    for name in layers.__all__:
        assert hasattr(layers, name), name
    assert set(layers.LAYER_TYPES) == {"Conv2D", "Dense", "MaxPool2D", "AvgPool2D", "Flatten"}
