"""The symbolic graph (symcnn/graph.py): shapes of every layer, the named scalars and their
expressions, and the build and unrolled budgets estimated from shapes before anything is built."""

import numpy as np
import pytest
import sympy

import symcnn as sc
from symcnn import graph as graph_module
from symcnn.graph import SymbolicGraph, check_build_budget, estimated_build_cost


def small_layers():
    return [sc.Conv2D(3, 3, activation="relu"), sc.MaxPool2D(2), sc.Flatten(), sc.Dense(2, activation="softmax")]


@pytest.fixture(scope="module")
def graph():
    return SymbolicGraph((2, 6, 6), small_layers(), "cross_entropy")


def named_scalars(graph):
    arrays = [graph.input_symbols, graph.target_symbols]
    for node in graph.layer_nodes:
        arrays += [a for a in (node.weights, node.bias, node.pre_activations, node.outputs) if a is not None]
    return [s for array in arrays for s in array.flat] + [graph.loss_symbol]


def test_every_layer_has_the_shapes_of_pytorch(graph):
    # conv 3x3 valid: 6 - 3 + 1 = 4; pool 2 (stride 2): 4 / 2 = 2; flatten: 3 * 2 * 2 = 12
    assert [node.output_shape for node in graph.nodes] == [(3, 4, 4), (3, 2, 2), (12,), (2,)]
    assert [node.name for node in graph.nodes] == ["conv1", "pool2", "flatten", "dense3"]
    assert graph.parameter_shapes() == {"conv1.weight": (3, 2, 3, 3), "conv1.bias": (3,),
                                        "dense3.weight": (2, 12), "dense3.bias": (2,)}


def test_every_named_scalar_is_its_own_symbol(graph):
    scalars = named_scalars(graph)
    assert len(set(scalars)) == len(scalars)
    assert all(symbol in {s for a in graph.parameter_symbols().values() for s in a.flat}
               for node in graph.layer_nodes for symbol in (() if node.weights is None else node.weights.flat))


def test_a_conv_position_is_the_weighted_sum_of_its_patch(graph):
    conv = graph.nodes[0]
    x, w, b = graph.input_symbols, conv.weights, conv.bias
    f, i, j = 1, 2, 0
    by_hand = sum(w[f, c, u, v] * x[c, i + u, j + v] for c in range(2) for u in range(3) for v in range(3)) + b[f]
    assert sympy.expand(conv.weighted_sum_at((f, i, j)) - by_hand) == 0


def test_flatten_reads_the_pool_outputs_channel_major(graph):
    pool, flatten = graph.nodes[1], graph.nodes[2]
    assert list(flatten.outputs) == [pool.outputs[c, i, j] for c in range(3) for i in range(2) for j in range(2)]
    dense = graph.nodes[3]
    assert dense.weighted_sum_at((1,)).free_symbols == set(dense.weights[1]) | set(flatten.outputs) | {dense.bias[1]}


def test_the_loss_is_written_in_the_outputs_and_targets(graph):
    assert graph.loss_expression.free_symbols == set(graph.output_symbols) | set(graph.target_symbols)


def test_the_build_estimate_counts_layers_outputs_parameters_and_patch_entries(graph):
    cost, parameters, entries = estimated_build_cost((2, 6, 6), small_layers())
    assert parameters == sum(np.prod(shape) for shape in graph.parameter_shapes().values())
    # patch entries: conv 4x4 positions x 2*3*3, pool 3x2x2 windows x 2*2, dense one patch of 12
    assert entries == 16 * 18 + 12 * 4 + 12
    numbers = -(-(parameters + entries) // graph_module.NUMBERS_PER_BUILD_COST)
    assert cost == 3 * graph_module.BUILD_COST_PER_LAYER + 2 * graph_module.BUILD_COST_PER_OUTPUT + numbers  # a softmax adds nothing
    assert graph.build_cost == cost


def test_building_makes_no_per_scalar_symbol_until_one_is_asked_for():
    graph = SymbolicGraph((1, 216, 216), [sc.Conv2D(1, 3, activation="sigmoid"), sc.MaxPool2D(2), sc.Flatten(),
                                          sc.Dense(1, activation="sigmoid")], "bce")
    arrays = [graph.input_symbols, graph.target_symbols] + [
        a for node in graph.layer_nodes for a in (node.weights, node.bias, node.pre_activations, node.outputs)
        if a is not None]
    assert sum(a.size for a in arrays) > 150_000
    assert sum(a.made for a in arrays) == 2  # the one output and its target, which the loss is written in
    conv = graph.layer_nodes[0]
    assert conv.output_at((0, 100, 7)) == sc.sigmoid(conv.pre_activations[0, 100, 7])
    assert conv.outputs.made == 1 and conv.pre_activations.made == 1
    # a position's weighted sum makes the 9 pixels and 9 weights it reads, and nothing else
    assert len(conv.weighted_sum_at((0, 5, 5)).args) == 3 * 3 + 1
    assert graph.input_symbols.made == 9 and conv.weights.made == 9


def test_a_network_whose_parameters_would_not_fit_in_memory_is_refused_before_anything_is_allocated(monkeypatch):
    monkeypatch.setattr(graph_module, "available_memory", lambda: 10 ** 6)  # a megabyte
    with pytest.raises(ValueError, match=r"this network's 1,000,010 parameters alone would take 8\.0 MB of memory "
                                         r"\(float64\), more than the 1\.0 MB available, so nothing was built"):
        SymbolicGraph((1, 1, 100_000), [sc.Flatten(), sc.Dense(10, activation="sigmoid")], "bce",
                      max_build_cost=10 ** 9)
    monkeypatch.setattr(graph_module, "available_memory", lambda: None)  # unknown: only the time budget
    assert check_build_budget((1, 1, 100_000), [sc.Flatten(), sc.Dense(10)], 10 ** 9) > 0


def test_a_network_beyond_the_budget_is_refused_before_it_is_built():
    cost = estimated_build_cost((2, 6, 6), small_layers())[0]
    assert check_build_budget((2, 6, 6), small_layers(), cost) == cost
    with pytest.raises(ValueError, match="max_build_cost"):
        SymbolicGraph((2, 6, 6), small_layers(), "cross_entropy", max_build_cost=cost - 1)


def test_the_unrolled_estimate_is_positions_times_template_size(graph):
    expected = sum(int(np.prod(node.output_shape)) * (node.template.patch.size + 1) for node in graph.layer_nodes)
    assert graph.estimated_unrolled_terms() == expected == 48 * 19 + 12 * 5 + 2 * 13
    with pytest.raises(ValueError):
        graph.check_unrolled_budget(expected - 1)
