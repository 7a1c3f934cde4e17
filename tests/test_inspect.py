"""Inspecting derivatives: values of expressions, the chain-rule ledger, rolled and expanded forms,
receptive fields and saliency, sizes and costs, the unrolled view (networks A and C)."""

import numpy as np
import pytest
import sympy

import symcnn as sc
from symcnn import inspect as si
from symcnn.evaluate import UnrolledEvaluator
from symcnn.graph import LayerNode
from symcnn.naming import adjoint_symbol
from tests.shared import network_c_off_the_kinks
from tests.reference import assert_matches_input_finite_differences

RTOL = 1e-9


@pytest.fixture(scope="module")
def net_a():
    return sc.presets.network_a(seed=3)


@pytest.fixture(scope="module")
def digit(noisy_digit):
    """A real MNIST digit (a 7) with faint noise."""
    return noisy_digit


@pytest.fixture(scope="module")
def net_c():
    return network_c_off_the_kinks()


def close(actual, expected, rtol=RTOL):
    """float64 agreement at ``rtol`` relative to the expected magnitude (tiny absolute floor)."""
    return abs(actual - expected) <= rtol * abs(expected) + 1e-15


# -- values of expressions ------------------------------------------------------------------------
def test_weight_symbols_have_the_shape_of_the_parameters(net_a, net_c):
    for net in (net_a, net_c):
        for key, value in net.params.items():
            symbols = net.weight_symbols(key)
            assert symbols.shape == value.shape
            assert all(si.scalar_roles(net.graph, net.inspection_cache)[s].key == key for s in symbols.flat)
    with pytest.raises(ValueError, match="unknown parameter 'conv9.weight'"):
        net_a.weight_symbols("conv9.weight")


def test_values_equal_the_unrolled_evaluators_for_every_kind_of_scalar(small_network, rng):
    net = small_network()
    x = rng.random((2, 7, 7))
    evaluator = UnrolledEvaluator(net.graph)
    values = evaluator.forward_values(x, net.params)
    _, adjoints = evaluator.adjoints(values, net.as_targets(2, 1)[0])
    expected = dict(values)
    expected.update({adjoint_symbol(s): v for s, v in adjoints.items()})
    symbols = list(expected)
    kinds = {si.scalar_roles(net.graph, net.inspection_cache)[s].kind for s in symbols}
    assert kinds >= {"input", "weight", "bias", "pre_activation", "activation"}
    actual = net.evaluate(symbols, x, 2)
    assert np.allclose(actual, [expected[s] for s in symbols], rtol=1e-10, atol=1e-13)


def test_a_batch_gives_each_samples_value(net_a, photo):
    a = net_a.graph.layer_nodes[2].outputs[0, 5, 6]
    expression = adjoint_symbol(a) * a
    batch = np.stack([photo, 1 - photo])
    values = net_a.evaluate(expression, batch, [1.0, 0.0])
    assert values.shape == (2,)
    assert values[1] == pytest.approx(net_a.evaluate(expression, 1 - photo, 0.0), rel=1e-12)


def test_values_that_need_the_label_say_so(net_a, photo):
    with pytest.raises(ValueError, match="needs the label y"):
        net_a.evaluate(net_a.graph.loss_symbol, photo)
    with pytest.raises(ValueError, match="not a named scalar"):
        net_a.evaluate(sympy.Symbol("q"), photo, 1.0)


@pytest.fixture(params=["a", "c"])
def case(request, net_a, net_c, photo, digit):
    """(net, x, y): network A on the photo, network C on an MNIST digit."""
    return (net_a, photo, 1.0) if request.param == "a" else (net_c, *digit)


def largest_gradients(net, x, y):
    """(key, symbol, gradient) of the largest-gradient entry of every parameter array."""
    for key, gradient in net.gradients(x, y).items():
        index = np.unravel_index(np.argmax(np.abs(gradient)), gradient.shape)
        yield key, net.weight_symbols(key)[index], gradient[index]


def test_gradient_expressions_evaluate_to_the_gradients(case):
    net, x, y = case
    for key, weight, gradient in largest_gradients(net, x, y):
        assert close(net.evaluate(net.gradient_expression(weight), x, y), gradient), key


# -- the chain-rule ledger ---------------------------------------------------------------------------
def test_ledger_totals_equal_the_gradients(case):
    net, x, y = case
    for key, weight, gradient in largest_gradients(net, x, y):
        ledger = net.ledger(x, y, weight)
        assert close(ledger.total, gradient), key
        assert [abs(t.value) for t in ledger.terms] == sorted((abs(t.value) for t in ledger.terms), reverse=True)
        assert close(ledger.position_map().sum(), ledger.total, 1e-12)
        if key.endswith(".weight"):
            assert close(ledger.input_map().sum(), ledger.total, 1e-12)
        # the path runs from the loss down to the weight, each factor's wrt the next one's of
        assert ledger.path[0].of == net.graph.loss_symbol and ledger.path[-1].wrt == ledger.weight
        assert all(upper.wrt == lower.of for upper, lower in zip(ledger.path, ledger.path[1:]))


def test_ledger_factors_are_the_derived_partials_with_their_numbers(net_a, photo):
    node = net_a.graph.layer_nodes[1]
    ledger = net_a.ledger(photo, 1.0, node.weights[0, 0, 2, 3])
    top = ledger.terms[0]
    a, z = node.outputs[top.position], node.pre_activations[top.position]
    assert [f.formula for f in top.factors] == [adjoint_symbol(a), a * (1 - a),
                                                net_a.graph.layer_nodes[0].outputs[0, top.position[1] + 2,
                                                                                   top.position[2] + 3]]
    for factor in top.factors:
        assert factor.value == pytest.approx(net_a.evaluate(factor.formula, photo, 1.0), rel=1e-12)
    assert top.factors[1].of == a and top.factors[1].wrt == z


def test_ledger_explains_one_weight_of_one_image(net_a, photo):
    with pytest.raises(ValueError, match="not a weight or bias"):
        net_a.ledger(photo, 1.0, net_a.graph.layer_nodes[0].outputs[0, 0, 0])
    with pytest.raises(ValueError, match="one sample"):
        net_a.ledger(np.stack([photo, photo]), [1.0, 1.0], net_a.weight_symbols("conv1.weight")[0, 0, 0, 0])


# -- rolled and expanded forms ---------------------------------------------------------------------
def rolled_cases_a(graph):
    n1, n2, n3, n4 = graph.layer_nodes
    return [(n2.pre_activations[0, 3, 4], None), (n2.outputs[0, 3, 4], None), (n4.outputs[0], None),
            (n2.pre_activations[0, 3, 4], n2.weights[0, 0, 1, 2]),
            (n2.pre_activations[0, 3, 4], n1.outputs[0, 4, 6]),
            (n2.pre_activations[0, 3, 4], n1.outputs[0, 14, 6]),  # not in its window: 0
            (n2.outputs[0, 3, 4], n2.pre_activations[0, 3, 4]),
            (n4.pre_activations[0], n3.outputs[0, 3, 4]),
            (graph.loss_symbol, n2.weights[0, 0, 4, 1]), (graph.loss_symbol, n3.weights[0, 0, 6, 6]),
            (graph.loss_symbol, n4.weights[0, 100])]


def rolled_cases_c(graph):
    conv, pool, dense = graph.layer_nodes
    z, a = conv.pre_activations[2, 14, 19], conv.outputs[2, 14, 19]  # filter 2 fires on the digit's stroke
    return [(z, None), (a, None), (conv.pre_activations[0, 0, 5], None),  # a window reaching into the padding
            (pool.outputs[2, 7, 9], None), (dense.pre_activations[4], None), (dense.outputs[4], None),
            (z, conv.weights[2, 0, 0, 1]), (z, conv.weights[1, 0, 0, 1]),  # another filter's weight: 0
            (z, conv.bias[2]), (conv.pre_activations[0, 0, 5], graph.input_symbols[0, 1, 5]), (a, z),
            (pool.outputs[2, 7, 9], a), (pool.outputs[2, 7, 9], conv.outputs[2, 15, 18]),  # not the maximum: 0
            (dense.pre_activations[4], pool.outputs[2, 7, 9]),
            (dense.outputs[4], dense.pre_activations[7]), (dense.outputs[4], dense.pre_activations[4]),
            (graph.loss_symbol, conv.weights[2, 0, 1, 1]), (graph.loss_symbol, conv.bias[5]),
            (graph.loss_symbol, dense.weights[4, 300]), (graph.loss_symbol, dense.bias[2])]


@pytest.mark.parametrize("which", ["a", "c"])
def test_rolled_and_expanded_forms_agree_at_real_numbers(which, net_a, net_c, photo, digit):
    net, x, y = (net_a, photo, 1.0) if which == "a" else (net_c, *digit)
    trace = si.Trace(net, x, y)
    cases = (rolled_cases_a if which == "a" else rolled_cases_c)(net.graph)
    nonzero = 0
    for of, wrt in cases:
        rolled = si.rolled_form(net, of, wrt)
        expanded = si.expanded_form(net, of, wrt)
        rolled_value = rolled.evaluate(trace)[0]
        expanded_value = trace.evaluate(expanded)
        assert close(rolled_value, expanded_value), (of, wrt, rolled.general)
        # written out, the rolled form is the same function as the instantiated template (a conv
        # weight's rolled gradient writes out to hundreds of terms: checked by its numbers alone)
        if of != net.graph.loss_symbol or si.scalar_roles(net.graph, net.inspection_cache)[wrt].node == len(net.graph.nodes) - 1:
            assert close(trace.evaluate(rolled.expanded()), expanded_value), (of, wrt)
        nonzero += rolled_value != 0
    assert nonzero >= len(cases) - 2  # the chosen points are informative: zero only where meant
    gradients = net.gradients(x, y)
    for of, wrt in cases:
        if of == net.graph.loss_symbol:
            role = si.scalar_roles(net.graph, net.inspection_cache)[wrt]
            assert close(si.rolled_form(net, of, wrt).evaluate(trace)[0], gradients[role.key][role.index])


def test_rolled_forms_read_like_the_layer_definitions(net_a, net_c):
    z = net_a.graph.layer_nodes[1].pre_activations[0, 2, 3]
    assert str(si.rolled_form(net_a, z).general) == ("Sum(a__1[c, i + u, j + v]*w__2[f, c, u, v], "
                                                     "(c, 0, 0), (u, 0, 4), (v, 0, 4))")
    conv = net_c.graph.layer_nodes[0]
    form = si.rolled_form(net_c, conv.pre_activations[1, 2, 3], conv.weights[1, 0, 2, 0])
    assert str(form.general) == "x[c, i + u - 1, j + v - 1]" and str(form.at) == "x[0, 3, 2]"
    # written out, the rolled sum is the instantiated template term for term
    assert sympy.expand(si.rolled_form(net_a, z).expanded() - si.expanded_form(net_a, z)) == 0


def test_rolled_forms_with_channel_shared_kernels(small_network, rng):
    net = small_network()
    x = rng.random((2, 7, 7))
    trace = si.Trace(net, x, 1)
    conv2 = net.graph.layer_nodes[1]
    gradients = net.gradients(x, 1)
    for of, wrt in [(conv2.pre_activations[1, 1, 2], conv2.weights[1, 0, 1, 0]),
                    (net.graph.loss_symbol, conv2.weights[1, 0, 1, 0])]:
        value = si.rolled_form(net, of, wrt).evaluate(trace)[0]
        assert close(value, trace.evaluate(si.expanded_form(net, of, wrt)))
    assert close(value, gradients["conv2.weight"][1, 0, 1, 0])


# -- receptive fields and saliency ------------------------------------------------------------------
def test_receptive_fields_follow_the_layers(net_a, net_c):
    field = si.receptive_field(net_a, net_a.graph.layer_nodes[2].outputs[0, 4, 7])
    expected = np.zeros((1, 27, 27), dtype=bool)
    expected[0, 4:17, 7:20] = True  # 3 + 5 + 7 - 2 = 13 pixels from the output's corner
    assert np.array_equal(field, expected)
    assert si.receptive_field(net_a, net_a.graph.loss_symbol).all()
    pool = net_c.graph.layer_nodes[1]
    field = si.receptive_field(net_c, pool.outputs[2, 0, 3])
    expected = np.zeros((1, 28, 28), dtype=bool)
    expected[0, 0:3, 5:9] = True  # a 2x2 window of 3x3 kernels with one pixel of zero padding
    assert np.array_equal(field, expected)
    # a gradient's terms read every first-layer activation, whose windows cover the image; its
    # adjoint symbols are numbers given by backpropagation and are not followed
    gradient = net_a.gradient_expression(net_a.weight_symbols("conv1.weight")[0, 0, 1, 2])
    assert si.receptive_field(net_a, gradient).all()
    corner = si.receptive_field(net_a, adjoint_symbol(net_a.graph.layer_nodes[0].outputs[0, 0, 0]))
    assert not corner.any()


def test_saliency_of_an_activation_matches_finite_differences(net_a, photo):
    node = net_a.graph.layer_nodes[2]
    a = node.outputs[0, 6, 3]
    gradient = si.saliency(net_a, photo, a)
    assert np.all((gradient != 0) <= si.receptive_field(net_a, a))
    assert_matches_input_finite_differences(lambda x: net_a.feature_maps(x)["conv3"][0, 6, 3], photo, gradient)
    assert np.allclose(si.saliency(net_a, photo, a, times_input=True), gradient * photo)


def test_saliency_through_relu_pooling_and_softmax(net_c, digit):
    x, y = digit
    pool, dense = net_c.graph.layer_nodes[1:]
    assert_matches_input_finite_differences(lambda v: net_c.feature_maps(v)["pool2"][3, 5, 6], x,
                                            si.saliency(net_c, x, pool.outputs[3, 5, 6]))
    assert_matches_input_finite_differences(lambda v: net_c.predict(v)[y], x, si.saliency(net_c, x, dense.outputs[y]))
    assert_matches_input_finite_differences(lambda v: net_c.loss(v, y), x, si.saliency(net_c, x, y=y))


# -- size and cost ------------------------------------------------------------------------------------
def test_layer_costs_count_symbols_operations_and_partials(net_a):
    rows = si.layer_costs(net_a)
    assert [row["symbols"] for row in rows] == [625 * 2 + 9, 441 * 2 + 25, 225 * 2 + 49, 2 + 225]
    assert sum(row["local_partials"] for row in rows) == si.unrolled_view(net_a).partial_count
    assert rows[0]["forward_ops"] == 625 * (9 + 8 + 1)  # 9 products, 8 sums, one sigmoid per position
    assert all(row["gradient_ops"] > 0 for row in rows)


def test_nested_sizes_are_estimated_exactly_and_grow_multiplicatively(net_a, net_c):
    rows = si.growth_table(net_a)
    assert [row["built_ops"] == row["nested_ops"] for row in rows] == [True, True, False, False, False]
    assert rows[1]["derivative_ops"] > rows[1]["nested_ops"]
    # pasting multiplies, layer by layer adds: the nested loss dwarfs every layer's expressions
    assert rows[-1]["nested_ops"] > 50 * rows[-1]["layer_by_layer_ops"]
    pool = net_c.graph.layer_nodes[1]
    for symbol in (pool.outputs[2, 0, 3], net_c.graph.layer_nodes[0].pre_activations[1, 5, 27]):
        assert si.nested_size(net_c, symbol) == sympy.count_ops(si.nested_expression(net_c, symbol))


def test_nested_expressions_are_the_same_function(net_a, photo):
    a = net_a.graph.layer_nodes[1].outputs[0, 3, 3]
    nested = si.nested_expression(net_a, a)
    assert {si.scalar_roles(net_a.graph, net_a.inspection_cache)[s].kind for s in nested.free_symbols} == {"input", "weight"}
    assert close(net_a.evaluate(nested, photo), net_a.evaluate(a, photo), 1e-12)


def test_too_big_a_nested_expression_is_refused_before_building(net_a, monkeypatch):
    def never(*args):
        raise AssertionError("nothing may be built beyond the budget")

    monkeypatch.setattr(LayerNode, "weighted_sum_at", never)
    with pytest.raises(ValueError, match=r"about 11,070,008 operations, more than max_ops=200,000"):
        si.nested_expression(net_a)


# -- the whole unrolled view ----------------------------------------------------------------------------
def test_unrolled_view_of_network_a_holds_every_expression_and_partial(net_a):
    view = si.unrolled_view(net_a)
    graph = net_a.graph
    assert len(view.expressions) == 2 * (625 + 441 + 225 + 1) + 1
    assert view.partial_count == 57092
    node = graph.layer_nodes[1]
    assert view.expressions[node.pre_activations[0, 3, 3]] == node.weighted_sum_at((0, 3, 3))
    assert view.partials[node.outputs[0, 3, 3]] == {node.pre_activations[0, 3, 3]:
                                                    node.outputs[0, 3, 3] * (1 - node.outputs[0, 3, 3])}
    dz_da = view.partials[node.pre_activations[0, 3, 3]]
    assert dz_da[graph.layer_nodes[0].outputs[0, 5, 4]] == node.weights[0, 0, 2, 1]


# -- naming schemes ----------------------------------------------------------------------------------------
def test_renaming_between_the_symcnn_and_r_schemes(net_a):
    r_net = sc.presets.network_a(seed=3, naming="r")
    weight = (0, 0, 1, 2)
    ours = net_a.gradient_expression(net_a.weight_symbols("conv2.weight")[weight])
    theirs = r_net.gradient_expression(r_net.weight_symbols("conv2.weight")[weight])
    assert si.renamed(net_a.graph, ours, "r") == theirs
    assert si.renamed(r_net.graph, theirs, "symcnn") == ours
    assert si.renamed(net_a.graph, net_a.weight_symbols("conv2.weight")[weight], "r").name == "l2m1w8"


# -- the inspection cache --------------------------------------------------------------------------
def test_inspection_keeps_its_caches_on_the_network_not_on_the_graph():
    net = sc.presets.network_a(seed=3)
    image = np.linspace(0, 1, 729).reshape(1, 27, 27)
    weight = net.weight_symbols("conv3.weight")[0, 0, 3, 3]
    first = net.ledger(image, 1.0, weight).total
    si.rolled_form(net, net.graph.loss_symbol, weight)
    assert {"evaluator", "rolled_2"} <= set(net.inspection_cache.names())  # roles are read from the names
    assert not [name for name in vars(net.graph) if "inspect" in name]
    net.inspection_cache.clear()
    assert len(net.inspection_cache) == 0
    assert net.ledger(image, 1.0, weight).total == first  # rebuilt, the same numbers


def test_the_cache_stays_valid_when_the_parameters_change():
    net = sc.presets.network_a(seed=3)
    image = np.linspace(0, 1, 729).reshape(1, 27, 27)
    a = net.graph.layer_nodes[1].outputs[0, 2, 2]
    net.evaluate(a, image)  # builds the inspection evaluator
    net.fit(image, 1.0, lr=0.5, epochs=2, progress=False)
    assert close(net.evaluate(a, image), net.feature_maps(image)["conv2"][0, 2, 2])


def _made(net):
    graph = net.graph
    counts = {"input": graph.input_symbols.made}
    for node in graph.layer_nodes:
        for kind in ("weights", "pre_activations", "outputs"):
            if getattr(node, kind) is not None:
                counts[node.name, kind] = getattr(node, kind).made
    return counts


def test_inspecting_one_scalar_of_a_large_network_makes_only_what_it_needs():
    """An A-like network on a 120x120 image (60,000 scalars): one dense weight's gradient, ledger and
    derivation, and one conv activation's role and renaming, make only the symbols they are written in."""
    net = sc.Network((1, 120, 120), [sc.Conv2D(1, 3, activation="sigmoid", bias=False),
                                     sc.Conv2D(1, 5, activation="sigmoid", bias=False),
                                     sc.Flatten(), sc.Dense(1, activation="sigmoid", bias=False)], loss="bce")
    conv1, conv2, dense = net.graph.layer_nodes
    a = conv1.outputs[0, 100, 7]
    assert si.role_of(net.graph, a) == si.ScalarRole("activation", 0, (0, 100, 7))
    assert str(net.renamed(a, "r")) == f"interm_l1_{100 * 118 + 7 + 1}"
    weight = net.weight_symbols("dense3.weight")[0, 5000]
    before = _made(net)
    assert before["input"] == 0 and before["conv1", "pre_activations"] == 0 and before["conv1", "outputs"] == 1
    x = np.random.default_rng(3).random((1, 120, 120))
    entry = net.ledger(x, 1.0, weight)
    assert close(entry.total, net.gradients(x, 1.0)["dense3.weight"][0, 5000], 1e-9)
    z = dense.pre_activations[0]
    assert net.gradient_expression(weight) == adjoint_symbol(dense.outputs[0]) * dense.outputs[0] * (
        1 - dense.outputs[0]) * conv2.outputs.flat[5000]
    assert [(f.of, f.wrt) for f in entry.path] == [(net.graph.loss_symbol, dense.outputs[0]), (dense.outputs[0], z),
                                                    (z, weight)]
    after = _made(net)
    # nothing of the first layer, and of the second only its outputs the dense unit reads
    assert after["input"] == 0 and after["conv1", "pre_activations"] == 0 and after["conv1", "outputs"] == 1
    assert after["conv2", "pre_activations"] == 0 and after["conv2", "outputs"] == conv2.outputs.size
