from dataclasses import replace

import numpy as np
import pytest
import sympy

import symcnn as sc
from symcnn.differentiate import central_differences, derive_template, local_partials, output_partial, partials_of
from symcnn.layers import KERNEL, PATCH


def test_partials_of_equals_sympy_diff():
    x, y, w, v = sympy.symbols("x y w v")
    expression = w * x + v * w ** 2 * y + sympy.sin(v) + 3
    partials = partials_of(expression, [w, v, x, y])
    for symbol, partial in partials.items():
        assert sympy.simplify(partial - sympy.diff(expression, symbol)) == 0


@pytest.mark.parametrize("last_activation, loss", [("softmax", "cross_entropy"), ("sigmoid", "bce")])
def test_instantiated_template_partials_equal_diff_of_unrolled_expressions(small_network, last_activation, loss):
    """At every position of every layer, the template partials instantiated there equal
    sympy.diff of that position's unrolled scalar expression."""
    graph = small_network(loss, last_activation).graph
    checked = 0
    for node in graph.layer_nodes:
        parameters = [s for array in (node.weights, node.bias) if array is not None for s in array.flat]
        for position in node.positions():
            partials = local_partials(node, position)
            if node.pre_activations is not None:
                z_expression = node.weighted_sum_at(position)
                for symbol in parameters + list(node.inputs.flat):
                    expected = sympy.diff(z_expression, symbol)
                    assert partials["weighted_sum"].get(symbol, 0) == expected, (node.name, position, symbol)
                    checked += 1
                output = node.output_at(position)
                # the partials are written in the outputs a (sigmoid: a(1 - a), softmax: a_k(delta_km - a_m))
                outputs = {node.outputs[p]: node.output_at(p) for p in node.positions()}
                for z in node.pre_activations.flat:
                    written_out = partials["output"].get(z, sympy.S.Zero).xreplace(outputs)
                    assert sympy.simplify(written_out - sympy.diff(output, z)) == 0, (node.name, position, z)
            else:
                output = node.output_at(position)
                for symbol in node.inputs.flat:
                    assert partials["output"].get(symbol, 0) == sympy.diff(output, symbol)
                    checked += 1
    assert checked > 1000


def test_activation_partials_are_written_in_the_output_symbol():
    graph = sc.presets.network_a().graph
    node = graph.layer_nodes[1]
    partials = local_partials(node, (0, 3, 4))
    a = node.outputs[0, 3, 4]
    assert partials["output"] == {node.pre_activations[0, 3, 4]: a * (1 - a)}
    assert partials["weighted_sum"][node.weights[0, 0, 2, 1]] == graph.layer_nodes[0].outputs[0, 5, 5]


def test_softmax_and_tanh_partials_are_written_in_the_outputs():
    """softmax: d a_k / d z_m = a_k (delta_km - a_m); tanh: 1 - a^2 (the forms a textbook prints)."""
    net = sc.Network((1, 2, 2), [sc.Conv2D(1, 2, activation="tanh"), sc.Flatten(),
                                 sc.Dense(3, activation="softmax")], "cross_entropy")
    conv, dense = net.graph.layer_nodes[0], net.graph.layer_nodes[-1]
    a, z = dense.outputs, dense.pre_activations
    partials = local_partials(dense, (1,))["output"]
    assert partials == {z[0]: -a[1] * a[0], z[1]: a[1] * (1 - a[1]), z[2]: -a[1] * a[2]}
    assert local_partials(conv, (0, 0, 0))["output"] == {conv.pre_activations[0, 0, 0]: 1 - conv.outputs[0, 0, 0] ** 2}

def test_relu_partial_states_pytorch_choice_at_zero():
    graph = sc.Network((1, 3, 3), [sc.Conv2D(1, 2, activation="relu"), sc.Flatten(),
                                   sc.Dense(1, activation="sigmoid")], "bce").graph
    node = graph.layer_nodes[0]
    (partial,) = local_partials(node, (0, 0, 0))["output"].values()
    assert partial.func.__name__ == "Step"
    assert "> 0" in sympy.latex(partial)  # 1[z > 0]: ReLU'(0) = 0, as in PyTorch


def test_central_differences_of_a_known_function():
    params = {"a": np.array([[1.0, 2.0]]), "b": np.array([3.0])}
    gradients = central_differences(lambda p: float(np.sum(p["a"] ** 3) * p["b"][0]), params)
    np.testing.assert_allclose(gradients["a"], [[9.0, 36.0]], rtol=1e-8)
    np.testing.assert_allclose(gradients["b"], [9.0], rtol=1e-8)


@pytest.mark.parametrize("last_activation, loss", [("softmax", "cross_entropy"), ("sigmoid", "bce"), ("tanh", "mse"),
                                                   ("softmax", "bce")])
def test_output_errors_equal_the_last_bias_gradient(last_activation, loss, rng):
    """dL/dz of the last layer, written in a and y, has the numbers of dL/db (= dL/dz for a dense bias)."""
    from symcnn.differentiate import output_errors
    net = sc.Network((1, 3, 3), [sc.Flatten(), sc.Dense(3, activation=last_activation)], loss=loss, seed=2)
    x, y = rng.normal(size=(1, 3, 3)), np.array([0.0, 1.0, 0.0])
    errors = output_errors(net.graph)
    values = [net.evaluate(error, x, y) for error in errors.values()]
    np.testing.assert_allclose(np.ravel(values), net.gradients(x, y)["dense1.bias"], rtol=1e-12, atol=1e-15)
    if (last_activation, loss) in (("softmax", "cross_entropy"), ("sigmoid", "bce")):  # p - t
        a, t = net.graph.output_symbols, net.graph.target_symbols
        assert list(errors.values()) == [a[k] - t[k] for k in range(3)]


@pytest.mark.parametrize("layer, input_shape", [
    (sc.Conv2D(2, 3, activation="sigmoid"), (1, 5, 5)), (sc.Conv2D(3, (2, 3), bias=False), (2, 6, 6)),
    (sc.Conv2D(2, 1, activation="relu"), (3, 4, 4)), (sc.Dense(4, activation="tanh"), (7,)),
    (sc.Dense(1, bias=False), (1,))])
def test_indexed_template_partials_equal_those_of_the_written_out_template(layer, input_shape):
    """The partials derived once at the generic index, read at every entry, equal sympy's partials of the
    template written out term by term, entry by entry."""
    template = derive_template(layer.template(input_shape))
    assert template.weighted_sum.has(sympy.Sum)  # size-independent: the sum is not written out
    written_out = template.expanded_weighted_sum()
    assert len(sympy.Add.make_args(written_out)) == template.patch.size + (template.bias is not None)
    partials = template.partials["weighted_sum"]
    symbols = list(template.kernel.flat) + list(template.patch.flat) + [s for s in [template.bias] if s is not None]
    assert list(partials) == symbols
    for symbol in symbols:
        assert partials[symbol] == sympy.diff(written_out, symbol), symbol
    # and the expanded template, derived the old way, has the same partials
    expanded = derive_template(replace(template, weighted_sum=written_out, partials={}, generic_index=()))
    assert dict(expanded.partials["weighted_sum"]) == dict(partials)


def test_a_template_is_derived_without_writing_out_its_sum():
    """A dense layer on 50,000 inputs: its template's partials are stated at the generic index n, and
    neither the patch, the kernel nor the written-out sum is made."""
    template = derive_template(sc.Dense(3, activation="sigmoid").template((50_000,)))
    generic = template.partials["weighted_sum"].generic
    n = template.generic_index
    assert generic == {KERNEL[n]: PATCH[n], PATCH[n]: KERNEL[n], template.bias: 1}
    assert template.patch.made == template.kernel.made == 0 and template._expanded is None
    assert template.partials["weighted_sum"][template.kernel[49_999]] == template.patch[49_999]


@pytest.mark.parametrize("last_activation, loss", [("softmax", "cross_entropy"), ("sigmoid", "bce")])
def test_one_output_partial_is_the_entry_of_the_local_partials_and_sympy_s_diff(small_network, last_activation, loss):
    """output_partial instantiates one d a / d z alone; it equals local_partials' entry and diff of the output."""
    graph = small_network(loss, last_activation).graph
    for node in (graph.layer_nodes[0], graph.layer_nodes[-1]):
        for position in list(node.positions())[:4]:
            partials = local_partials(node, position)["output"]
            for other in list(node.positions())[:4]:
                z = node.pre_activations[other]
                entry = output_partial(node, position, other)
                assert sympy.simplify(entry - partials.get(z, 0)) == 0
                outputs = {node.output_at(p): node.outputs[p] for p in node.positions()}
                by_diff = sympy.diff(node.output_at(position), z).xreplace(outputs)
                point = {s: v for s, v in zip(sorted(by_diff.free_symbols | entry.free_symbols, key=str),
                                              np.linspace(0.1, 0.3, 50))}
                assert float(entry.subs(point)) == pytest.approx(float(by_diff.subs(point)), rel=1e-12, abs=1e-15)
