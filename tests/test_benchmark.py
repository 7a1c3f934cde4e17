"""The benchmark's hand-written NumPy step against PyTorch float64, and the benchmark in --quick mode."""

import numpy as np
import pytest

import symcnn as sc
from symcnn.numpy_reference import NumpyStep

pytest.importorskip("torch")
from reference import assert_matches_torch  # noqa: E402  (needs torch)

RNG = np.random.default_rng(11)


def _numpy_loss_and_gradients(net, transposed_pass):
    step = NumpyStep(net, transposed_pass)

    def loss_and_gradients(x, y):
        batch, _ = net.as_batch(x)
        loss, gradients = step.loss_and_gradients(batch, net.as_targets(y, len(batch)))
        return loss, {key: value.copy() for key, value in gradients.items()}
    return loss_and_gradients


PRESET_DATA = {
    "a": (lambda n: RNG.random((n, 1, 27, 27)), lambda n: RNG.integers(0, 2, n).astype(float)),
    "b": (lambda n: RNG.random((n, 1, 28, 28)), lambda n: RNG.integers(0, 10, n)),
    "c": (lambda n: RNG.random((n, 1, 28, 28)), lambda n: RNG.integers(0, 10, n)),
    "d": (lambda n: RNG.random((n, 1, 27, 27)), lambda n: np.eye(2)[RNG.integers(0, 2, n)]),
}


@pytest.mark.parametrize("name", sorted(PRESET_DATA))
@pytest.mark.parametrize("count", [1, 3])
@pytest.mark.parametrize("transposed_pass", ["bincount", "shifted"])
def test_the_numpy_step_of_every_preset_equals_pytorch(name, count, transposed_pass):
    net = sc.presets.get(name)
    images, labels = PRESET_DATA[name]
    x, y = images(count), labels(count)
    if count == 1:
        x, y = x[0], y[0]
    assert_matches_torch(net, x, y, forward_rtol=1e-12, gradient_rtol=1e-9,
                         loss_and_gradients=_numpy_loss_and_gradients(net, transposed_pass))


SMALL_NETWORKS = {
    "stride, padding, avg and max pools, shared channels, softmax bce": (
        (2, 9, 8), [sc.Conv2D(3, 3, stride=2, padding=1, activation="tanh"), sc.AvgPool2D(2, stride=1),
                    sc.Conv2D(2, 2, shared_channels=True, activation="relu", bias=False), sc.MaxPool2D(2),
                    sc.Flatten(), sc.Dense(3, activation="softmax")], "bce",
        lambda n: np.eye(3)[RNG.integers(0, 3, n)]),
    "two dense layers, sigmoid mse": (
        (1, 6, 5), [sc.Conv2D(2, (3, 2), stride=(1, 2), activation="sigmoid"), sc.Flatten(),
                    sc.Dense(4, activation="identity"), sc.Dense(2, activation="sigmoid")], "mse",
        lambda n: RNG.random((n, 2))),
    "softmax mse after a padded max pool stack": (
        (3, 7, 7), [sc.Conv2D(4, 2, padding=(1, 0), activation="relu"), sc.MaxPool2D(3, stride=2),
                    sc.Flatten(), sc.Dense(3, activation="softmax")], "mse",
        lambda n: RNG.random((n, 3))),
    "a convolution as the last layer, sigmoid mse": (
        (2, 5, 6), [sc.Conv2D(3, 3, padding=1, activation="relu"), sc.Conv2D(2, 3, stride=2, activation="sigmoid")],
        "mse", lambda n: RNG.random((n, 8))),
    "relu dense into cross-entropy": (
        (1, 5, 5), [sc.Flatten(), sc.Dense(6, activation="relu"), sc.Dense(4, activation="softmax")],
        "cross_entropy", lambda n: RNG.integers(0, 4, n)),
}


@pytest.mark.parametrize("case", sorted(SMALL_NETWORKS))
@pytest.mark.parametrize("transposed_pass", ["bincount", "shifted"])
def test_the_numpy_step_of_small_networks_equals_pytorch(case, transposed_pass):
    input_shape, layers, loss, targets = SMALL_NETWORKS[case]
    net = sc.Network(input_shape, layers, loss=loss, seed=3)
    x = RNG.normal(size=(4, *input_shape))
    assert_matches_torch(net, x, targets(4), forward_rtol=1e-12, gradient_rtol=1e-9,
                         loss_and_gradients=_numpy_loss_and_gradients(net, transposed_pass))


def test_the_numpy_step_updates_its_own_parameters_by_sgd_and_leaves_the_network_alone():
    net = sc.presets.network_c()
    original = net.params
    step = NumpyStep(net)
    x, y = RNG.random((2, 1, 28, 28)), np.eye(10)[[1, 7]]
    _, gradients = step.loss_and_gradients(x, y)
    expected = {key: original[key] - 0.5 * gradients[key] for key in original}
    step.step(x, y, lr=0.5)
    for key in original:
        np.testing.assert_allclose(step.params[key], expected[key], rtol=1e-15, atol=0)
        np.testing.assert_array_equal(net.params[key], original[key])


def test_the_numpy_step_refuses_what_it_does_not_implement_by_name():
    net = sc.Network((1, 4, 4), [sc.Flatten(), sc.Dense(2, activation="softplus")], loss="mse")
    with pytest.raises(ValueError, match="softplus.*Dense 2"):
        NumpyStep(net)


def test_rounds_are_interleaved_in_rotating_order():
    from symcnn.benchmark import interleaved_rounds

    calls = []
    interleaved_rounds({name: (lambda name=name: calls.append(name)) for name in "abc"}, rounds=3, warmup=0)
    assert calls == list("abc" "bca" "cab")


def test_a_quick_benchmark_reports_the_machine_and_every_table_s_columns():
    from symcnn import benchmark

    results = benchmark.run_benchmarks(networks=("a", "d"), rounds=2, batch_rounds=1, batch_size=2,
                                       build_repeats=1, sizes=(27,), sweep_rounds=1, larger=("head1000",))
    assert results["machine"][0].startswith("CPU: ") and "numpy" in results["machine"][1]
    assert results["machine"][2].startswith("BLAS: ")
    (_, step_headers, steps), (_, build_headers, builds), (_, sweep_headers, sweep), (_, _, larger) = results["tables"]
    assert step_headers == ["network", "samples", "rounds", "symcnn net.step ms", "torch eager ms", "numpy ms",
                            "symcnn/numpy", "symcnn/torch"]
    assert [row[:3] for row in steps] == [["A", 1, 2], ["A", 2, 1], ["D", 1, 2], ["D", 2, 1]]
    for row in steps:
        assert all(" (IQR " in cell for cell in row[3:6]) and all(float(cell) > 0 for cell in row[6:])
    assert build_headers[-1] == "build s" and [row[0] for row in builds] == ["A", "D"]
    assert sweep_headers[:3] == ["image", "build cost", "build s"] and sweep[0][0] == "27x27"
    assert float(sweep[0][-1]) > 0 and len(sweep[0]) == len(sweep_headers)
    assert larger[0][0] == "1000-class softmax head" and float(larger[0][-1]) > 0
    with pytest.raises(ValueError, match=r"unknown larger network\(s\) \['huge'\]; expected names of LARGER_NETWORKS"):
        benchmark.run_benchmarks(networks=(), sizes=(), larger=("huge",))


def test_the_sweep_skips_a_size_the_build_budget_refuses_and_says_why():
    from symcnn import benchmark

    notes = []
    row = benchmark.sweep_row(4000, rounds=1, allow_slow_builds=False, notes=notes)  # 4.5 million: beyond the budget
    assert row[2] == "skipped" and "4000x4000 skipped" in notes[0] and "--allow-slow-builds" in notes[0]
