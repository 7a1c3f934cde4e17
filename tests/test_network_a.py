"""Network A (three sigmoid convolutions, dense to one sigmoid unit, -log p) end to end."""

import numpy as np
import pytest

import symcnn as sc
from tests.reference import assert_matches_finite_differences, assert_matches_torch


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradients_match_pytorch_on_a_real_photo(photo, seed):
    net = sc.presets.network_a(seed=seed)
    assert_matches_torch(net, photo, 1.0, forward_rtol=1e-12, gradient_rtol=1e-9)


def test_gradients_match_pytorch_with_random_weights_and_a_batch(photo, rng):
    net = sc.presets.network_a()
    net.set_params({k: rng.uniform(-1, 1, v.shape) for k, v in net.params.items()})
    batch = np.stack([photo, 1 - photo, photo ** 2])
    assert_matches_torch(net, batch, np.array([1.0, 0.0, 1.0]))


def test_gradients_match_finite_differences(photo):
    net = sc.presets.network_a(seed=4)
    assert_matches_finite_differences(net, photo, 1.0, rtol=1e-6)


def test_twenty_steps_lower_the_loss_at_every_step(photo):
    net = sc.presets.network_a()
    losses = [net.step(photo, 1.0, lr=0.1) for _ in range(20)] + [net.loss(photo, 1.0)]
    assert all(later < earlier for earlier, later in zip(losses, losses[1:])), losses


def test_reference_initialisation_limits():
    net = sc.presets.network_a()
    for key, limit in [("conv1.weight", np.sqrt(6 / 10)), ("conv2.weight", np.sqrt(6 / 26)),
                       ("conv3.weight", np.sqrt(6 / 50)), ("dense4.weight", np.sqrt(6 / 226))]:
        values = net.params[key]
        assert np.abs(values).max() <= limit
        assert np.abs(values).max() > 0.5 * limit  # drawn over the whole interval, not near 0


def test_shapes_follow_the_reference():
    net = sc.presets.network_a()
    assert [node.output_shape for node in net.graph.nodes] == [(1, 25, 25), (1, 21, 21), (1, 15, 15), (225,), (1,)]
    assert {k: v.shape for k, v in net.params.items()} == {
        "conv1.weight": (1, 1, 3, 3), "conv2.weight": (1, 1, 5, 5),
        "conv3.weight": (1, 1, 7, 7), "dense4.weight": (1, 225)}
