"""Numerical edge cases: logits and pre-activations of +-1e3 stay finite and equal PyTorch's.

PyTorch's stable formulations are the reference (binary_cross_entropy_with_logits,
cross_entropy, and a logsumexp form of bce after a softmax; see
:mod:`symcnn.torch_reference`). pytest turns every numpy overflow or division warning into
an error, so any unstable exp or log in a path run here fails the test by itself.
"""

import numpy as np
import pytest

import symcnn as sc
from symcnn.evaluate import UnrolledEvaluator
from symcnn.losses import COMPATIBLE_ACTIVATIONS, LOSSES
from tests.reference import assert_matches_torch

EXTREME = 1e3
#: Gradient arrays that are zero only by saturation come out as rounding noise of that size.
NEGLIGIBLE = 1e-12
LOSS_AND_LAST_ACTIVATION = [(loss, activation) for loss in LOSSES for activation in COMPATIBLE_ACTIVATIONS[loss]]


def _network_with_logits(loss, last_activation, logits):
    """A small network whose last layer's logits are exactly ``logits`` on an all-ones image.

    The hidden sigmoid outputs a are positive; dense row k is logits[k] / sum(a) times ones,
    so z_k = sum_n w_kn a_n = logits[k] (up to rounding), with a real gradient behind it.
    """
    net = sc.Network((1, 4, 4), [sc.Conv2D(2, 2, activation="sigmoid"), sc.Flatten(),
                                 sc.Dense(len(logits), activation=last_activation, bias=False)], loss=loss, seed=0)
    image = np.ones((1, 4, 4))
    hidden = net.feature_maps(image)["conv1"].reshape(-1)
    params = net.params
    params["dense2.weight"] = np.outer(logits, np.ones_like(hidden)) / hidden.sum()
    net.set_params(params)
    return net, image


def _targets(loss, classes):
    """Targets that disagree with the largest logit, so the gradients are not zero."""
    if loss == "cross_entropy":
        return classes - 1
    return np.linspace(1.0, 0.0, classes) if loss == "bce" else np.linspace(-1.0, 2.0, classes)


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("loss, last_activation", LOSS_AND_LAST_ACTIVATION)
def test_extreme_logits_give_finite_loss_and_gradients_equal_to_pytorch(loss, last_activation, sign):
    logits = sign * np.array([EXTREME, -EXTREME, 0.0])
    net, image = _network_with_logits(loss, last_activation, logits)
    y = _targets(loss, len(logits))
    loss_value, gradients = net.loss(image, y), net.gradients(image, y)
    assert np.isfinite(loss_value) and loss_value > 0
    assert all(np.all(np.isfinite(g)) for g in gradients.values())
    if (loss, last_activation) not in (("mse", "softmax"), ("huber", "softmax")):  # a saturated softmax is flat
        assert any(np.any(g != 0) for g in gradients.values())
    assert_matches_torch(net, image, y, forward_rtol=1e-12, gradient_rtol=1e-9, negligible=NEGLIGIBLE)


@pytest.mark.parametrize("loss, last_activation", LOSS_AND_LAST_ACTIVATION)
def test_extreme_logits_give_exact_probabilities(loss, last_activation):
    net, image = _network_with_logits(loss, last_activation, np.array([EXTREME, -EXTREME, 0.0]))
    outputs = net.predict(image)
    expected = {"sigmoid": [1.0, 0.0, 0.5], "softmax": [1.0, 0.0, 0.0], "tanh": [1.0, -1.0, 0.0],
                "relu": [EXTREME, 0.0, 0.0], "leaky_relu": [EXTREME, -0.01 * EXTREME, 0.0], "elu": [EXTREME, -1.0, 0.0],
                "softplus": [EXTREME, 0.0, np.log(2.0)], "silu": [EXTREME, 0.0, 0.0],  # -1e3 sigma(-1e3) = -1e3 e^-1e3
                "gelu": [EXTREME, 0.0, 0.0]}.get(last_activation, [EXTREME, -EXTREME, 0.0])
    np.testing.assert_allclose(outputs, expected, rtol=1e-12, atol=1e-12)
    last_map = net.feature_maps(image)["dense2"]
    np.testing.assert_array_equal(last_map, outputs)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_saturated_hidden_layers_match_pytorch(activation, rng):
    """Hidden pre-activations of +-1e3: sigmoid and tanh saturate, their derivatives are exactly 0."""
    net = sc.Network((1, 5, 5), [sc.Conv2D(2, 3, activation=activation), sc.Flatten(),
                                 sc.Dense(3, activation="softmax")], loss="cross_entropy", seed=1)
    params = net.params
    params["conv1.weight"] = rng.choice([-1, 1], size=params["conv1.weight"].shape) * EXTREME / 9
    net.set_params(params)
    image = rng.choice([0.0, 1.0], size=(2, 1, 5, 5))
    pre_activations = np.abs(net.feature_maps(image)["conv1"]) if activation == "relu" else None
    assert pre_activations is None or pre_activations.max() > 100
    assert_matches_torch(net, image, [0, 2], forward_rtol=1e-12, gradient_rtol=1e-9, negligible=NEGLIGIBLE)


@pytest.mark.parametrize("loss, last_activation", LOSS_AND_LAST_ACTIVATION)
def test_unrolled_evaluator_survives_saturated_outputs(loss, last_activation):
    """The per-scalar evaluator agrees with the fast one at +-1e3, without warnings."""
    net, image = _network_with_logits(loss, last_activation, np.array([EXTREME, -EXTREME, 0.0]))
    y = _targets(loss, 3)
    fast, unrolled = net.gradients(image, y), net.unrolled_gradients(image, y)
    for key in fast:
        np.testing.assert_allclose(unrolled[key], fast[key], rtol=1e-9, atol=NEGLIGIBLE)


def test_readable_output_adjoints_drop_terms_whose_target_weight_is_zero():
    """bce: dL/da = -y/a + (1 - y)/(1 - a). At a = 1.0 exactly (logit 1e3), y = 1 gives -1
    (the second term has weight 0), y = 0 gives +inf (its true size e^1000 overflows)."""
    net, image = _network_with_logits("bce", "sigmoid", np.array([EXTREME, EXTREME]))
    evaluator = UnrolledEvaluator(net.graph)
    values = evaluator.forward_values(image, net.params)
    _, adjoints = evaluator.adjoints(values, np.array([1.0, 0.0]))
    first, second = net.graph.output_symbols
    assert adjoints[first] == -1.0
    assert adjoints[second] == np.inf


def test_training_from_saturated_logits_stays_finite():
    net, image = _network_with_logits("cross_entropy", "softmax", np.array([EXTREME, -EXTREME, 0.0]))
    history = net.fit(image[None], [1], lr=1e-3, epochs=5, progress=False)
    assert np.all(np.isfinite(history)) and history[-1] < history[0]
    assert all(np.all(np.isfinite(value)) for value in net.params.values())


def test_diverging_training_stops_with_a_clear_error():
    net = sc.Network((1, 4, 4), [sc.Flatten(), sc.Dense(1)], loss="mse", seed=0)
    with pytest.raises(FloatingPointError, match=r"fit stopped at step \d+: step refused: .*use a smaller "
                                                 r"learning rate.*step\(s\) before it were applied"):
        net.fit(np.full((1, 1, 4, 4), 1e3), [1.0], lr=1e3, epochs=50, progress=False)
    assert all(np.all(np.isfinite(value)) for value in net.params.values())  # the last good state
    assert 0 < len(net.history) < 50 and np.all(np.isfinite(net.history))
