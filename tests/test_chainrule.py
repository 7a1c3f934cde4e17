import numpy as np
import pytest
import sympy

import symcnn as sc
from symcnn.chainrule import gradient_expression
from symcnn.evaluate import UnrolledEvaluator
from symcnn.naming import adjoint_symbol


def _forward_and_adjoint_values(net, x, y):
    """Every named scalar's value and every dL/da, from the unrolled (per-scalar) evaluator."""
    evaluator = UnrolledEvaluator(net.graph)
    values = evaluator.forward_values(x, net.params)
    _, adjoints = evaluator.adjoints(values, net.as_targets(y, 1)[0])
    for node in net.graph.layer_nodes:
        for symbol in node.outputs.flat:
            values[adjoint_symbol(symbol)] = adjoints.get(symbol, 0.0)
    return values


@pytest.mark.parametrize("last_activation, loss", [("softmax", "cross_entropy"), ("sigmoid", "bce")])
def test_symbolic_gradient_sum_evaluates_to_the_gradient(small_network, rng, last_activation, loss):
    net = small_network(loss, last_activation)
    x = rng.random((2, 7, 7))
    y = 1 if loss == "cross_entropy" else np.array([1.0, 0.0, 1.0])
    gradients = net.gradients(x, y)
    substitution = _forward_and_adjoint_values(net, x, y)
    for key in ("conv1.weight", "conv2.weight", "dense5.weight", "dense5.bias"):
        symbols = net.graph.parameter_symbols()[key]
        index = tuple(np.array(symbols.shape) - 1)
        expression = gradient_expression(net.graph, symbols[index])
        value = float(expression.xreplace(substitution))
        assert value == pytest.approx(gradients[key][index], rel=1e-10, abs=1e-14)


def test_gradient_expression_of_network_a_reads_like_paper():
    graph = sc.presets.network_a().graph
    weight = graph.layer_nodes[2].weights[0, 0, 3, 3]
    expression = gradient_expression(graph, weight)
    assert len(expression.args) == 15 * 15
    term = next(t for t in expression.args if graph.layer_nodes[2].outputs[0, 0, 0] in t.free_symbols)
    a = graph.layer_nodes[2].outputs[0, 0, 0]
    assert sympy.simplify(term - adjoint_symbol(a) * a * (1 - a) * graph.layer_nodes[1].outputs[0, 3, 3]) == 0


def test_unknown_weight_is_rejected():
    graph = sc.presets.network_a().graph
    with pytest.raises(ValueError, match="not a weight or bias"):
        gradient_expression(graph, sympy.Symbol("q"))
