"""The reference networks A-D as presets: shapes, parameter counts, initialisation, gradients.

Expected shapes and counts are written from ARCHITECTURES.md, not read from the code.
"""

import math

import numpy as np
import pytest

from symcnn import presets
from symcnn.data import one_hot
from tests.reference import assert_matches_finite_differences, assert_matches_torch

PRESET_NAMES = ["a", "b", "c", "d"]

#: Output shape of every layer (flatten included), per the reference.
LAYER_SHAPES = {
    "b": [(16, 21, 21), (8, 9, 9), (648,), (10,)],
    "c": [(8, 28, 28), (8, 14, 14), (1568,), (10,)],
    "d": [(5, 25, 25), (5, 21, 21), (5, 15, 15), (1125,), (2,)],
}
#: Number of trainable scalars, as the reference counts them (weights + biases per layer).
PARAMETER_COUNTS = {
    "a": 3 * 3 + 5 * 5 + 7 * 7 + 225,
    "b": (16 * 8 * 8 + 16) + (8 * 16 * 4 * 4 + 8) + (648 * 10 + 10),
    "c": (8 * 3 * 3 + 8) + (8 * 14 * 14 * 10 + 10),
    "d": 5 * 3 * 3 + 5 * 5 * 5 + 5 * 7 * 7 + 2 * 5 * 15 * 15,
}


@pytest.fixture(scope="module")
def preset():
    """Build each (name, seed) preset once per module; tests that change parameters restore them."""
    built = {}

    def get(name, seed=0):
        if (name, seed) not in built:
            built[name, seed] = presets.get(name, seed=seed)
        return built[name, seed]
    return get


@pytest.fixture(scope="module")
def digits(mnist):
    """Real MNIST inputs and targets that fit each preset's input and loss."""
    images, labels = mnist()
    threes_and_sixes, three_six_labels = mnist(classes=(3, 6), crop=(27, 27))
    return {
        "a": (threes_and_sixes[:3], (three_six_labels[:3] == 6).astype(float)),  # one unit: "is a 6"
        "b": (images[:4], labels[:4]),
        "c": (images[:4], labels[:4]),
        "d": (threes_and_sixes[:4], one_hot(three_six_labels[:4], (3, 6))),
    }


@pytest.mark.parametrize("name", sorted(LAYER_SHAPES))
def test_layer_shapes_follow_the_reference(preset, name):
    assert [node.output_shape for node in preset(name).graph.nodes] == LAYER_SHAPES[name]


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_parameter_counts_follow_the_reference(preset, name):
    assert sum(value.size for value in preset(name).params.values()) == PARAMETER_COUNTS[name]


def test_parameter_layouts_are_pytorch_s(preset):
    assert {k: v.shape for k, v in preset("b").params.items()} == {
        "conv1.weight": (16, 1, 8, 8), "conv1.bias": (16,), "conv2.weight": (8, 16, 4, 4),
        "conv2.bias": (8,), "dense3.weight": (10, 648), "dense3.bias": (10,)}
    assert {k: v.shape for k, v in preset("c").params.items()} == {
        "conv1.weight": (8, 1, 3, 3), "conv1.bias": (8,), "dense3.weight": (10, 1568), "dense3.bias": (10,)}
    # D's second and third convolutions hold one kernel per filter, shared by the 5 input channels
    assert {k: v.shape for k, v in preset("d").params.items()} == {
        "conv1.weight": (5, 1, 3, 3), "conv2.weight": (5, 1, 5, 5), "conv3.weight": (5, 1, 7, 7),
        "dense4.weight": (2, 1125)}


def assert_uniform_over(values, low, high):
    """All values in [low, high), and spread over the interval (not squeezed near its middle)."""
    assert values.min() >= low and values.max() < high, (values.min(), values.max(), low, high)
    width = high - low
    assert values.min() < low + 0.2 * width and values.max() > high - 0.2 * width


def test_network_b_initialisation(preset):
    params = preset("b").params
    for key in ("conv1.weight", "conv2.weight", "dense3.weight", "dense3.bias"):
        assert_uniform_over(params[key], -0.5, 0.5)
    assert not params["conv1.bias"].any() and not params["conv2.bias"].any()


def test_network_d_initialisation_uses_the_reference_limits(preset):
    params = preset("d").params
    limits = {f"conv{layer}.weight": math.sqrt(6 / (5 * k * k + 1)) for layer, k in [(1, 3), (2, 5), (3, 7)]}
    limits["dense4.weight"] = math.sqrt(6 / (2 * 5 * 15 * 15 + 2))
    for key, limit in limits.items():
        assert_uniform_over(params[key], -limit, limit)


def test_network_c_initialisation(preset):
    params = preset("c").params
    # He for the ReLU convolution: N(0, 2 / fan_in), fan_in = 1 channel x 3 x 3
    assert params["conv1.weight"].std() == pytest.approx(math.sqrt(2 / 9), rel=0.3)
    # Glorot-uniform (PyTorch's fans) for the softmax layer: 1568 inputs, 10 outputs
    limit = math.sqrt(6 / (1568 + 10))
    assert_uniform_over(params["dense3.weight"], -limit, limit)
    assert not params["conv1.bias"].any() and not params["dense3.bias"].any()


def test_seed_fixes_the_initial_weights(preset):
    again, other = presets.network_d(seed=0), preset("d", seed=1)
    for key, value in preset("d").params.items():
        assert np.array_equal(again.params[key], value)
        assert not np.array_equal(other.params[key], value)


def test_get_knows_every_preset_and_lists_them_for_an_unknown_name():
    assert presets.PRESETS == {"a": presets.network_a, "b": presets.network_b,
                               "c": presets.network_c, "d": presets.network_d}
    with pytest.raises(ValueError, match="'a', 'b', 'c', 'd'"):
        presets.get("e")


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_gradients_match_pytorch_on_real_digits(preset, digits, name):
    assert_matches_torch(preset(name), *digits[name], forward_rtol=1e-12, gradient_rtol=1e-9)


def test_network_d_gradients_match_finite_differences(preset, digits):
    images, targets = digits["d"]
    assert_matches_finite_differences(preset("d"), images[:1], targets[:1], rtol=1e-6)


def test_the_cli_and_the_results_script_train_by_the_same_recipes(monkeypatch):
    import importlib.util
    import sys
    from pathlib import Path

    from symcnn import cli

    script = Path(__file__).resolve().parents[1] / "scripts" / "results.py"
    spec = importlib.util.spec_from_file_location("results_script", script)
    results = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, results)  # its dataclasses look their module up
    spec.loader.exec_module(results)
    b, c, d = (presets.RECIPES[name] for name in "bcd")
    assert (results.B_TRAIN, results.B_TEST, results.B_LR) == (b["train"], b["test"], b["lr"])
    assert (results.C_TRAIN, results.C_TEST, results.C_LR, results.C_BATCH, results.C_EPOCHS) == (
        c["train"], c["test"], c["lr"], c["batch_size"], c["epochs"])
    assert (results.D_CLASSES, results.D_CROP, results.D_LR, results.D_ITERATIONS, results.D_IMAGES) == (
        d["classes"], d["crop"], d["lr"], d["epochs"], d["train"][1] - d["train"][0])
    assert not hasattr(cli, "TRAIN_DEFAULTS")  # no second copy in the CLI
