"""Benchmarks: symcnn against PyTorch float64 and naive approaches, measured in the same run.

Speed is measured here and reported, never asserted in tests. Needs torch (``symcnn[test]``).

>>> median_seconds(lambda: None, repeats=5) >= 0
True
"""

from __future__ import annotations

import time

import numpy as np

from . import presets
from .display import ProgressBar
from .evaluate import UnrolledEvaluator


def median_seconds(function, repeats: int = 200, warmup: int = 10) -> float:
    """Median wall-clock seconds of ``function()`` over ``repeats`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def torch_step(net, x, y, lr):
    """A PyTorch float64 gradient-descent step of ``net``'s architecture, as a closure."""
    import torch

    from .torch_reference import torch_logits, torch_loss

    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in net.params.items()}
    batch, _ = net.as_batch(x)
    inputs = torch.tensor(batch, dtype=torch.float64)
    targets = torch.tensor(net.as_targets(y, len(batch)), dtype=torch.float64)

    def step():
        for parameter in params.values():
            parameter.grad = None
        loss = torch_loss(net, torch_logits(net, inputs, params), targets)
        loss.backward()
        with torch.no_grad():
            for parameter in params.values():
                parameter -= lr * parameter.grad
        return loss
    return step


def naive_numpy_b_step(params, image, label, lr):
    """Network B by hand in numpy, one output position at a time (the reference's style).

    conv 8x8 (16 filters) -> conv 4x4 stride 2 (8 filters) -> dense 648 -> 10, softmax,
    cross-entropy; per-position loops forward and backward, then an SGD update in place.
    """
    w1, b1, w2, b2 = params["conv1.weight"], params["conv1.bias"], params["conv2.weight"], params["conv2.bias"]
    w3, b3 = params["dense3.weight"], params["dense3.bias"]
    x = image  # (1, 28, 28)
    z1 = np.empty((16, 21, 21))
    for i in range(21):
        for j in range(21):
            z1[:, i, j] = np.tensordot(w1, x[:, i:i + 8, j:j + 8], axes=3) + b1
    z2 = np.empty((8, 9, 9))
    for i in range(9):
        for j in range(9):
            z2[:, i, j] = np.tensordot(w2, z1[:, 2 * i:2 * i + 4, 2 * j:2 * j + 4], axes=3) + b2
    logits = w3 @ z2.reshape(-1) + b3
    shifted = np.exp(logits - logits.max())
    probabilities = shifted / shifted.sum()
    dlogits = probabilities.copy()
    dlogits[label] -= 1.0  # dL/dz = p - onehot for softmax + cross-entropy
    dw3, db3 = np.outer(dlogits, z2.reshape(-1)), dlogits
    dz2 = (w3.T @ dlogits).reshape(8, 9, 9)
    dw2, dz1 = np.zeros_like(w2), np.zeros_like(z1)
    for i in range(9):
        for j in range(9):
            dw2 += dz2[:, i, j][:, None, None, None] * z1[None, :, 2 * i:2 * i + 4, 2 * j:2 * j + 4]
            dz1[:, 2 * i:2 * i + 4, 2 * j:2 * j + 4] += np.tensordot(dz2[:, i, j], w2, axes=1)
    db2 = dz2.sum(axis=(1, 2))
    dw1 = np.zeros_like(w1)
    for i in range(21):
        for j in range(21):
            dw1 += dz1[:, i, j][:, None, None, None] * x[None, :, i:i + 8, j:j + 8]
    db1 = dz1.sum(axis=(1, 2))
    for key, gradient in zip(["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "dense3.weight",
                              "dense3.bias"], [dw1, db1, dw2, db2, dw3, db3]):
        params[key] -= lr * gradient
    return -np.log(probabilities[label])


def _example_input(name, net):
    if name == "a":
        from .data import sample_image
        return sample_image((27, 27)), 1.0
    rng = np.random.default_rng(0)
    return rng.random(net.input_shape), (0 if net.loss_name == "cross_entropy" else np.eye(net.output_size)[0])


def _has_naive(name: str, include_unrolled: bool) -> bool:
    return name == "b" or (name == "a" and include_unrolled)


def run_benchmarks(networks=("a", "b"), repeats: int = 200, include_unrolled: bool = True,
                   progress: bool = False) -> dict:
    """Time every network in ``networks``; returns {"headers": [...], "rows": [[...], ...]}.

    ``progress`` shows a bar over the measurements (build, symcnn, torch, naive) on stderr.
    """
    headers = ["network", "build+derive+compile s", "symcnn step ms", "torch f64 step ms",
               "symcnn/torch", "naive approach", "naive set-up s", "naive step ms", "naive/symcnn"]
    rows = []
    measurements = sum(3 + _has_naive(name, include_unrolled) for name in networks)
    with ProgressBar(measurements, "benchmark", enabled=progress, unit="measurement") as bar:
        for name in networks:
            rows.append(_benchmark_row(name, repeats, include_unrolled, bar))
    return {"headers": headers, "rows": rows}


def _benchmark_row(name, repeats, include_unrolled, bar):
    """One network's row of the table; advances ``bar`` after each measurement."""
    bar.update(0, measuring=f"{name.upper()} build")
    started = time.perf_counter()
    net = getattr(presets, f"network_{name}")()
    build_seconds = time.perf_counter() - started
    x, y = _example_input(name, net)
    lr = 1e-3
    batch, _ = net.as_batch(x)
    targets = net.as_targets(y, 1)
    bar.update(measuring=f"{name.upper()} symcnn step")
    symcnn_seconds = median_seconds(lambda: net.apply_step(batch, targets, lr), repeats)
    bar.update(measuring=f"{name.upper()} torch step")
    torch_seconds = median_seconds(torch_step(net, x, y, lr), repeats)
    naive_name, naive_setup, naive_seconds = "-", float("nan"), float("nan")
    if name == "a" and include_unrolled:
        bar.update(measuring="A unrolled step")
        started = time.perf_counter()
        unrolled = UnrolledEvaluator(net.graph)
        naive_setup = time.perf_counter() - started
        params = net.params
        naive_name = "unrolled: every scalar lambdified"
        naive_seconds = median_seconds(lambda: unrolled.loss_and_gradients(batch, targets, params),
                                       max(3, repeats // 50), warmup=1)
    elif name == "b":
        bar.update(measuring="B hand-written numpy step")
        params, label = net.params, int(np.argmax(targets[0]))
        naive_name, naive_setup = "hand-written numpy, per position", 0.0
        naive_seconds = median_seconds(lambda: naive_numpy_b_step(params, batch[0], label, lr),
                                       max(5, repeats // 10), warmup=2)
    bar.update()
    measured = np.isfinite(naive_seconds)
    return [name.upper(), f"{build_seconds:.3f}", f"{symcnn_seconds * 1e3:.3f}",
            f"{torch_seconds * 1e3:.3f}", f"{symcnn_seconds / torch_seconds:.2f}", naive_name,
            f"{naive_setup:.2f}" if measured else "-", f"{naive_seconds * 1e3:.2f}" if measured else "-",
            f"{naive_seconds / symcnn_seconds:.0f}x" if measured else "-"]
