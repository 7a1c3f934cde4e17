"""Losses: logit and readable forms agree; huber against PyTorch; user-defined losses end to end."""

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as F

import symcnn as sc
from symcnn.evaluate import compile_expressions
from symcnn.losses import (DEFINED_LOSSES, P, T, Loss, check_loss, huber, loss_of_logits, loss_of_probabilities,
                           output_probabilities)
from tests.reference import assert_matches_finite_differences, assert_matches_torch


@pytest.mark.parametrize("loss, activation", [
    ("bce", "sigmoid"), ("bce", "softmax"), ("cross_entropy", "softmax"), ("mse", "tanh"), ("mse", None)])
def test_logit_form_equals_readable_form(loss, activation, rng):
    logits, targets = sympy.symbols("z0:3"), sympy.symbols("y0:3")
    stable = compile_expressions([logits, targets], loss_of_logits(loss, activation, logits, targets))
    readable = loss_of_probabilities(loss, output_probabilities(activation, logits), targets)
    readable = compile_expressions([logits, targets], readable)
    for _ in range(5):
        z, y = rng.normal(0, 3, 3), rng.random(3)
        assert stable(z, y) == pytest.approx(readable(z, y), rel=1e-12)


def test_logit_form_is_finite_where_the_readable_form_overflows():
    logits, targets = sympy.symbols("z0:2"), sympy.symbols("y0:2")
    stable = compile_expressions([logits, targets], loss_of_logits("bce", "softmax", logits, targets))
    value = np.atleast_1d(stable([np.array([1e3]), np.array([-1e3])], [np.array([0.0]), np.array([1.0])]))
    assert np.isfinite(value).all() and value[0] == pytest.approx(4e3)


def test_loss_and_activation_must_fit():
    with pytest.raises(ValueError, match="needs the last layer's activation"):
        check_loss("cross_entropy", "sigmoid")
    with pytest.raises(ValueError, match="unknown loss"):
        check_loss("hinge", None)


# -- defined losses: huber and the user's own ---------------------------------------------

def _loss_and_gradient(loss, p, t):
    value = compile_expressions([P, T], loss.expression)
    gradient = compile_expressions([P, T], loss.derivative)
    return np.broadcast_to(value(p, t), p.shape), np.broadcast_to(gradient(p, t), p.shape)


@pytest.mark.parametrize("delta", [1.0, 0.3, 2])
def test_huber_equals_pytorchs_huber_loss_at_and_around_its_kinks(delta):
    # differences on both sides of -delta, 0 and delta, and exactly at them
    differences = np.concatenate([np.linspace(-4, 4, 81),
                                  [-delta, delta, 0.0, delta * (1 + 1e-12), -delta * (1 - 1e-12)]])
    targets = np.linspace(-1, 1, len(differences))
    predictions = targets + differences
    value, gradient = _loss_and_gradient(huber(delta), predictions, targets)
    p = torch.tensor(predictions, dtype=torch.float64, requires_grad=True)
    expected = F.huber_loss(p, torch.tensor(targets, dtype=torch.float64), delta=delta, reduction="none")
    expected.sum().backward()
    np.testing.assert_allclose(value, expected.detach().numpy(), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(gradient, p.grad.numpy(), rtol=1e-9, atol=1e-300)
    # the stated convention: at |p - t| = delta the slope is +-delta (continuous there), as in PyTorch
    at_kink = np.array([delta, -delta])
    assert list(_loss_and_gradient(huber(delta), at_kink, np.zeros(2))[1]) == [delta, -delta]


def test_huber_gradient_equals_central_differences():
    predictions = np.array([p for p in np.linspace(-3, 3, 37) if min(abs(abs(p) - 1), abs(p)) > 1e-3])
    value, gradient = _loss_and_gradient(DEFINED_LOSSES["huber"], predictions, np.zeros_like(predictions))
    shifted = [_loss_and_gradient(DEFINED_LOSSES["huber"], predictions + s, np.zeros_like(predictions))[0]
               for s in (1e-6, -1e-6)]
    np.testing.assert_allclose(gradient, (shifted[0] - shifted[1]) / 2e-6, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("last_activation", [None, "sigmoid", "softmax", "gelu"])
def test_huber_network_is_summed_over_outputs_and_averaged_over_the_batch_as_stated(last_activation, rng):
    net = sc.Network((1, 5, 5), [sc.Conv2D(2, 3, activation="elu"), sc.Flatten(),
                                 sc.Dense(3, activation=last_activation)],
                     loss="huber", seed=2)
    x, y = rng.random((4, 1, 5, 5)), rng.normal(0, 2, (4, 3))
    assert_matches_torch(net, x, y)  # torch: huber_loss(reduction="none").sum(outputs).mean(batch)
    outputs = torch.tensor(net.predict(x))
    stated = F.huber_loss(outputs, torch.tensor(y), reduction="sum") / len(x)
    assert net.loss(x, y) == pytest.approx(float(stated), rel=1e-12)
    assert_matches_finite_differences(net, x, y)


LOG_COSH = Loss("log_cosh", lambda p, t: sympy.log(sympy.cosh(p - t)), latex=r"\operatorname{logcosh}")


def test_user_loss_after_a_user_activation_matches_pytorch_and_trains(rng):
    swish = sc.Activation("swish", lambda z: z * sc.sigmoid(z))
    net = sc.Network((2, 6, 6), [sc.Conv2D(2, 3, activation=swish), sc.AvgPool2D(2), sc.Flatten(),
                                 sc.Dense(2, activation="tanh")], loss=LOG_COSH, seed=4)
    x, y = rng.random((3, 2, 6, 6)), rng.uniform(-0.9, 0.9, (3, 2))
    functions = {"swish": lambda z: z * torch.sigmoid(z), "log_cosh": lambda p, t: torch.log(torch.cosh(p - t))}
    assert_matches_torch(net, x, y, functions=functions)
    assert_matches_finite_differences(net, x, y)
    assert "the loss is log_cosh" in str(net.derivation(x[0], y[0], net.weight_symbols("dense3.weight")[1, 2]))
    assert sympy.latex(net.graph.loss_expression).startswith(r"\operatorname{logcosh}\left(a^{(3)}_{0}, y_{0}\right)")
    history = net.fit(x, y, lr=0.5, epochs=60, progress=False)
    assert history[-1] < 0.5 * history[0]


def test_a_user_loss_written_in_logits_stays_finite_where_probabilities_saturate():
    # the module's advice: no last activation, the log-sigmoid inside f
    stable = Loss("logit_bce", lambda z, t: -t * sc.log_sigmoid(z) - (1 - t) * sc.log_sigmoid(-z))
    net = sc.Network((1, 1, 1), [sc.Flatten(), sc.Dense(1, bias=False)], loss=stable)
    net.set_params({"dense1.weight": np.array([[1.0]])})
    x, y = np.array([[[[-800.0]]], [[[3.0]]]]), np.array([1.0, 0.0])
    expected = F.binary_cross_entropy_with_logits(torch.tensor([-800.0, 3.0], dtype=torch.float64),
                                                  torch.tensor(y), reduction="mean")
    assert net.loss(x, y) == pytest.approx(float(expected), rel=1e-12)
    assert np.isfinite(net.gradients(x, y)["dense1.weight"]).all()


@pytest.mark.parametrize("name, f, error, pattern", [
    ("target_only", lambda p, t: t ** 2, ValueError, r"does not depend on p"),
    ("scaled", lambda p, t: (p - t) ** 2 * sympy.Symbol("w"), ValueError, r"uses 'w'; it may use only p, t"),
    ("one_argument", lambda p: p ** 2, TypeError, r"Loss 'one_argument': f\(p, t\) failed on sympy symbols"),
    ("number", lambda p, t: 0.5, TypeError, r"f must return a sympy expression of p, t, got float"),
    ("max", lambda p, t: sympy.Max(p, t), ValueError, r"Max .* is not among the node types"),
    ("2bad", lambda p, t: p, ValueError, r"Loss: name must be an identifier"),
])
def test_bad_loss_definitions_are_refused_clearly(name, f, error, pattern):
    with pytest.raises(error, match=pattern):
        Loss(name, f)


def test_cross_entropy_and_bce_refuse_a_user_activation_mse_takes_it():
    swish = sc.Activation("swish", lambda z: z * sc.sigmoid(z))
    with pytest.raises(ValueError, match=r"loss 'bce' needs the last layer's activation to be one of"):
        check_loss("bce", swish)
    assert check_loss("mse", swish) == "mse" and check_loss(LOG_COSH, "softmax") is LOG_COSH
