"""Training modes of ``Network.fit``: steps taken, what each step averages, determinism."""

import numpy as np
import pytest

import symcnn as sc
from symcnn import presets
from symcnn.data import one_hot

SAMPLES = 10
LEARNING_RATE = 0.05


@pytest.fixture
def data(rng):
    """Random inputs and class labels for the ``small_network`` fixture (2x7x7 input, 3 classes)."""
    return rng.random((SAMPLES, 2, 7, 7)), rng.integers(0, 3, SAMPLES)


def step_by_hand(net, x, y, batches, epochs):
    """``net.step`` over the given index batches, in order, every epoch; returns the losses."""
    return [net.step(x[batch], y[batch], lr=LEARNING_RATE) for _ in range(epochs) for batch in batches]


def assert_same_training(fitted, by_hand, history, losses):
    assert history == losses
    for key, value in fitted.params.items():
        assert np.array_equal(value, by_hand.params[key]), key


@pytest.mark.parametrize("batch_size, batches", [
    (1, [[i] for i in range(SAMPLES)]),  # per-sample SGD: one step per image
    (4, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]),  # mini-batches; the last one holds the rest
    (None, [list(range(SAMPLES))]),  # full batch: one step per epoch
    (50, [list(range(SAMPLES))]),  # a batch larger than the set is the whole set
], ids=["per-sample", "mini-batch", "full-batch", "oversized-batch"])
def test_fit_takes_the_documented_steps(small_network, data, batch_size, batches):
    x, y = data
    fitted, by_hand = small_network(), small_network()
    epochs = 2
    history = fitted.fit(x, y, lr=LEARNING_RATE, epochs=epochs, batch_size=batch_size, shuffle=False,
                         progress=False, validation=(x, y))
    assert len(history) == epochs * len(batches)
    assert fitted.history == history and len(fitted.accuracy_history) == epochs
    assert_same_training(fitted, by_hand, history, step_by_hand(by_hand, x, y, batches, epochs))


@pytest.mark.parametrize("loss, last_activation", [("cross_entropy", "softmax"), ("bce", "sigmoid"),
                                                   ("mse", "tanh")])
def test_full_batch_gradient_is_the_mean_of_per_sample_gradients(small_network, rng, loss, last_activation):
    net = small_network(loss=loss, last_activation=last_activation)
    x = rng.random((5, 2, 7, 7))
    y = rng.integers(0, 3, 5) if loss == "cross_entropy" else rng.random((5, 3))
    per_sample = [net.gradients(x[i], y[i]) for i in range(len(x))]
    for key, gradient in net.gradients(x, y).items():
        np.testing.assert_allclose(gradient, np.mean([g[key] for g in per_sample], axis=0), rtol=1e-12, atol=1e-15)


def test_fit_is_deterministic_for_a_seed(small_network, data):
    x, y = data
    runs = [small_network(seed=7) for _ in range(2)]
    histories = [net.fit(x, y, lr=LEARNING_RATE, epochs=3, batch_size=3, shuffle=True, progress=False)
                 for net in runs]
    assert_same_training(runs[0], runs[1], histories[0], histories[1])
    unshuffled = small_network(seed=7)
    assert unshuffled.fit(x, y, lr=LEARNING_RATE, epochs=3, batch_size=3, shuffle=False,
                          progress=False) != histories[0]  # shuffling changed the batches


def test_network_d_loss_falls_on_real_threes_and_sixes(mnist):
    images, labels = mnist(classes=(3, 6), crop=(27, 27))
    images, targets = images[:20], one_hot(labels[:20], (3, 6))
    net = presets.network_d(seed=0)
    history = net.fit(images, targets, lr=0.001, epochs=5, batch_size=None, shuffle=False, progress=False)
    losses = history + [net.loss(images, targets)]
    assert all(later < earlier for earlier, later in zip(losses, losses[1:])), losses


def test_consecutive_fits_extend_both_histories(rng):
    net = sc.Network((1, 4, 4), [sc.Flatten(), sc.Dense(2, activation="softmax")], loss="cross_entropy", seed=0)
    X, y = rng.random((6, 1, 4, 4)), np.array([0, 1, 0, 1, 1, 0])
    first = net.fit(X, y, lr=0.1, epochs=1, batch_size=1, progress=False, validation=(X, y))
    second = net.fit(X, y, lr=0.1, epochs=2, batch_size=1, progress=False, validation=(X, y))
    assert net.history == first + second and len(second) == 12
    assert len(net.accuracy_history) == 3


# -- a step never leaves the network worse than before ---------------------------------------

def dense_network():
    return sc.Network((1, 3, 3), [sc.Flatten(), sc.Dense(2, activation="softmax")], loss="cross_entropy", seed=0)


def test_a_diverging_step_is_refused_and_keeps_the_parameters(rng):
    """lr=1e300 twice used to return a NaN loss and leave NaN parameters, raising nothing."""
    net, x, y = dense_network(), rng.random((4, 1, 3, 3)), np.array([0, 1, 0, 1])
    before = net.params
    for _ in range(2):
        with pytest.raises(FloatingPointError, match=r"step refused: it would set dense1\.\w+ to values up to "
                                                     r".*learning rate 1e\+300.*the parameters are unchanged"):
            net.step(x, y, lr=1e300)
        assert all(np.array_equal(net.params[key], value) for key, value in before.items())
    assert np.all(np.isfinite(net.predict(x)))
    net.step(x, y, lr=0.1)  # a sane step still works after refusals
    assert not all(np.array_equal(net.params[key], value) for key, value in before.items())


def test_a_step_on_huge_pixels_is_refused_and_the_network_still_predicts(rng, tmp_path):
    """Pixels of 1e300 gave a finite loss (4e300) but parameters of 3e299 whose predictions
    were NaN, and save() wrote them."""
    net, huge = dense_network(), np.full((1, 3, 3), 1e300)
    before = net.params
    wrong_label = 1 - int(np.argmax(net.predict(huge)))  # (the right one has a zero gradient: p is exactly 1)
    with pytest.raises(FloatingPointError, match=r"step refused: .*largest \|x\| 1e\+300\); the parameters are unchanged"):
        net.step(huge, wrong_label, lr=0.1)
    assert all(np.array_equal(net.params[key], value) for key, value in before.items())
    assert np.all(np.isfinite(net.predict(rng.random((3, 1, 3, 3)))))
    net.save(tmp_path / "net.symcnn")  # what is saved is the good state
    assert all(np.array_equal(sc.load(tmp_path / "net.symcnn").params[key], v) for key, v in before.items())


def test_a_fit_stopped_by_a_refused_step_keeps_exactly_the_steps_before_it(rng):
    """The third sample's pixels are 1e300: steps 1 and 2 are applied and in history, step 3
    changes nothing (fit used to leave NaN parameters and an empty history)."""
    x, y = rng.random((5, 1, 3, 3)), np.array([0, 1, 0, 1, 1])
    x[2] = 1e300
    fitted, by_hand = dense_network(), dense_network()
    with pytest.raises(FloatingPointError, match=r"fit stopped at step 3: step refused: .*; the 2 step\(s\) "
                                                 r"before it were applied and are in net\.history"):
        fitted.fit(x, y, lr=LEARNING_RATE, epochs=1, batch_size=1, shuffle=False, progress=False)
    assert_same_training(fitted, by_hand, fitted.history, step_by_hand(by_hand, x, y, [[0], [1]], 1))
    assert len(fitted.history) == 2


def test_a_fit_with_a_huge_learning_rate_stops_at_its_first_step_and_changes_nothing(rng):
    net, x, y = dense_network(), rng.random((4, 1, 3, 3)), np.array([0, 1, 0, 1])
    before = net.params
    with pytest.raises(FloatingPointError, match=r"fit stopped at step 1: step refused: .*the 0 step\(s\) before"):
        net.fit(x, y, lr=1e300, epochs=3, batch_size=2, progress=False)
    assert net.history == [] and all(np.array_equal(net.params[key], value) for key, value in before.items())
