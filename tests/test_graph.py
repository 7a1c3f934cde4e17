"""The symbolic graph (symcnn/graph.py): shapes of every layer, the named scalars and their
expressions, and the build and unrolled budgets estimated from shapes before anything is built."""

import numpy as np
import pytest
import sympy

import symcnn as sc
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


def test_the_build_estimate_counts_the_scalars_the_graph_holds(graph):
    cost, scalars, terms = estimated_build_cost((2, 6, 6), small_layers())
    assert scalars == len(named_scalars(graph))
    # template terms: generic inputs + 1 per layer (conv patch 2*3*3, pool window 2*2, dense 12)
    assert terms == (18 + 1) + (4 + 1) + (12 + 1)
    assert cost == scalars + 30 * terms  # a softmax adds nothing: its partials are derived once for any K
    assert graph.build_cost == cost


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
