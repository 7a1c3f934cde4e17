import numpy as np
import pytest
import sympy

import symcnn as sc
from symcnn.evaluate import CompiledNetwork, UnrolledEvaluator, compile_expressions
from symcnn.functions import FirstMax, LogSigmoid, LogSumExp, ReLU, Sigmoid, Step, WindowMax
from tests.reference import assert_matches_torch, max_relative_error


@pytest.mark.parametrize("last_activation, loss", [
    ("softmax", "cross_entropy"), ("softmax", "bce"), ("sigmoid", "bce"), ("tanh", "mse"), (None, "mse")])
def test_fast_path_equals_unrolled_evaluator(small_network, rng, last_activation, loss):
    net = small_network(loss, last_activation)
    x = rng.random((3, 2, 7, 7))
    y = rng.random((3, 3)) if loss != "cross_entropy" else np.array([0, 2, 1])
    batch, _ = net.as_batch(x)
    targets = net.as_targets(y, 3)
    fast_loss, fast = CompiledNetwork(net.graph).loss_and_gradients(batch, targets, net.params)
    slow_loss, slow = UnrolledEvaluator(net.graph).loss_and_gradients(batch, targets, net.params)
    assert fast_loss == pytest.approx(slow_loss, rel=1e-12)
    assert max_relative_error(fast, slow) < 1e-11


def test_unrolled_network_a_agrees_with_fast_path(photo):
    net = sc.presets.network_a(seed=3)
    fast = net.gradients(photo, 1.0)
    slow = net.unrolled_gradients(photo, 1.0)
    assert max_relative_error(fast, slow) < 1e-10


def test_numpy_implementations_match_their_definitions():
    z = sympy.Symbol("z")
    values = np.array([-30.0, -1.5, 0.0, 2.0, 30.0])
    for function, definition in [(Sigmoid, 1 / (1 + sympy.exp(-z))), (LogSigmoid, -sympy.log(1 + sympy.exp(-z))),
                                 (ReLU, sympy.Max(0, z)), (Step, sympy.Heaviside(z, 0))]:
        compiled = compile_expressions([z], function(z))
        exact = [float(definition.subs(z, sympy.Rational(v)).evalf(40)) for v in values]
        np.testing.assert_allclose(compiled(values), exact, rtol=1e-14, atol=1e-300)
    a, b, c = sympy.symbols("a b c")
    lse = compile_expressions([a, b, c], LogSumExp(a, b, c))
    assert lse(1000.0, 1000.0, -5.0) == pytest.approx(1000.0 + np.log(2.0), rel=1e-15)
    assert compile_expressions([a, b, c], WindowMax(a, b, c))(1.0, 3.0, 3.0) == 3.0
    first = compile_expressions([a, b, c], [FirstMax(k, a, b, c) for k in range(3)])
    assert first(1.0, 3.0, 3.0) == [0.0, 1.0, 0.0]  # a tie goes to the first maximum


def test_stable_functions_stay_finite_at_extreme_logits():
    z = sympy.Symbol("z")
    extreme = np.array([-1e3, 1e3])
    assert np.all(np.isfinite(compile_expressions([z], LogSigmoid(z))(extreme)))
    np.testing.assert_array_equal(compile_expressions([z], Sigmoid(z))(extreme), [0.0, 1.0])


def test_unrolled_evaluator_is_built_once_and_follows_parameter_changes(small_network, rng):
    net = small_network("cross_entropy", "softmax")
    x = rng.random((2, 7, 7))
    first = net.unrolled_gradients(x, 1)
    evaluator = net._unrolled
    net.set_params({k: v * 0.5 for k, v in net.params.items()})
    second = net.unrolled_gradients(x, 1)
    assert net._unrolled is evaluator
    assert max_relative_error(second, net.gradients(x, 1)) < 1e-11
    assert max_relative_error(first, second) > 1e-3  # new parameters, new numbers


@pytest.mark.parametrize("classes, loss", [(1000, "cross_entropy"), (300, "bce"), (50, "mse"), (20, "huber")])
def test_wide_softmax_heads_build_with_their_closed_form_partials_and_match_pytorch(rng, classes, loss):
    """The head derives one output's loss once, whatever K: a 1,000-class head builds (it used to run for hours)."""
    net = sc.Network((1, 2, 2), [sc.Flatten(), sc.Dense(classes, activation="softmax")], loss=loss, seed=1)
    x = rng.normal(size=(3, 1, 2, 2)) * 4
    y = rng.integers(0, classes, 3) if loss == "cross_entropy" else rng.random((3, classes))
    assert_matches_torch(net, x, y, forward_rtol=1e-12, gradient_rtol=1e-9)
