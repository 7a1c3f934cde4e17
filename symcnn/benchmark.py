"""Benchmarks: symcnn's ``net.step`` against PyTorch eager and a hand-written NumPy step, in one run.

One thread each (the BLAS thread variables must be 1 before numpy is imported: ``symcnn bench``
re-runs itself with :data:`ONE_THREAD` set), float64, the contenders interleaved round by round in
rotating order, medians and interquartile ranges over the rounds. Speed is measured here and
reported, never asserted in tests. Needs torch (``symcnn[test]``).

>>> times = interleaved_rounds({"nothing": lambda: None, "sum": lambda: sum(range(10))}, rounds=5)
>>> sorted(times), len(times["sum"])
(['nothing', 'sum'], 5)
>>> quartiles([1.0, 2.0, 3.0, 4.0, 5.0])
(3.0, 2.0, 4.0)
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np

from . import presets
from .display import ProgressBar
from .graph import DEFAULT_MAX_BUILD_COST, check_build_budget, estimated_build_cost
from .layers import Conv2D, Dense, Flatten, MaxPool2D
from .network import Network
from .numpy_reference import NumpyStep

#: Environment variables that hold numpy's and torch's BLAS/OpenMP pools to one thread.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
#: Learning rate of every timed step (small, so that thousands of steps stay near the start).
LEARNING_RATE = 1e-3
#: Issue 11's larger networks by short name: (label, input shape, a function making the layers, loss)
LARGER_NETWORKS = {
    "conv256": ("8-filter conv, 1x256x256", (1, 256, 256),
                lambda: [Conv2D(8, 3, activation="relu"), MaxPool2D(2), Flatten(), Dense(10, activation="softmax")],
                "cross_entropy"),
    "conv512": ("8-filter conv, 1x512x512", (1, 512, 512),
                lambda: [Conv2D(8, 3, activation="relu"), MaxPool2D(2), Flatten(), Dense(10, activation="softmax")],
                "cross_entropy"),
    "rgb224": ("RGB photo, 3x224x224", (3, 224, 224),
               lambda: [Conv2D(16, 5, stride=2, activation="relu"), MaxPool2D(4), Flatten(),
                        Dense(10, activation="softmax")], "cross_entropy"),
    "head1000": ("1000-class softmax head", (1, 2, 2), lambda: [Flatten(), Dense(1000, activation="softmax")],
                 "cross_entropy"),
}
#: Round counts of a full run and of ``--quick`` (a smoke run whose numbers mean little).
FULL = dict(rounds=1000, batch_rounds=150, build_repeats=5, sizes=(27, 54, 108, 216), sweep_rounds=200,
            larger=tuple(LARGER_NETWORKS))
QUICK = dict(rounds=20, batch_rounds=5, build_repeats=1, sizes=(27, 54), sweep_rounds=5,
             larger=("head1000",))


def missing_one_thread_settings(environment=None) -> dict:
    """The :data:`ONE_THREAD` variables that ``environment`` (default ``os.environ``) lacks or sets otherwise.

    >>> missing_one_thread_settings({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "4"})
    {'MKL_NUM_THREADS': '1'}
    """
    environment = os.environ if environment is None else environment
    return {key: value for key, value in ONE_THREAD.items() if environment.get(key) != value}


def blas_description() -> str:
    """Which BLAS numpy and torch use and with how many threads (threadpoolctl if installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"numpy BLAS {blas.get('name')} {blas.get('version')} (threadpoolctl not installed: threads unverified)"
    pools = {(pool["internal_api"], pool["version"], pool["num_threads"]) for pool in threadpool_info()}
    return "; ".join(f"{api} {version}, {threads} thread(s)" for api, version, threads in sorted(pools))


def machine_lines() -> list[str]:
    """The machine a benchmark ran on, one fact per line: CPU, cores, load, versions, BLAS, threads."""
    import sympy
    import torch

    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), model)
    except OSError:
        model = platform.processor() or model
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"
    threads = ", ".join(f"{key}={os.environ.get(key, 'unset')}" for key in ONE_THREAD)
    return [f"CPU: {model}; {os.cpu_count()} cores ({usable} usable); load average {load}",
            f"Python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
            f"sympy {sympy.__version__}",
            f"BLAS: {blas_description()}",
            f"threads: {threads}, torch {torch.get_num_threads()}; float64"]


def interleaved_rounds(contenders: dict, rounds: int, warmup: int = 3) -> dict:
    """{name: seconds of each round} for ``contenders`` ({name: function of no arguments}).

    Every round calls each contender once, starting one further along each round, so that
    drifts of the machine (other work, frequency, caches) fall on all of them alike.
    """
    names = list(contenders)
    for _ in range(warmup):
        for name in names:
            contenders[name]()
    times = {name: np.empty(rounds) for name in names}
    for round_number in range(rounds):
        start = round_number % len(names)
        for name in names[start:] + names[:start]:
            started = time.perf_counter()
            contenders[name]()
            times[name][round_number] = time.perf_counter() - started
    return times


def quartiles(values) -> tuple[float, float, float]:
    """(median, first quartile, third quartile) of ``values``."""
    q1, median, q3 = np.percentile(np.asarray(values, dtype=float), [25, 50, 75])
    return float(median), float(q1), float(q3)


def _cell(seconds, scale: float = 1e3, digits: int = 3) -> str:
    """'median (IQR q3 - q1)' in ms (``scale`` 1e3) or s (``scale`` 1)."""
    median, q1, q3 = quartiles(np.asarray(seconds) * scale)
    return f"{median:.{digits}f} (IQR {q3 - q1:.{digits}f})"


def _ratio(numerator, denominator) -> str:
    return f"{np.median(numerator) / np.median(denominator):.2f}"


def torch_step(net, x, y, lr):
    """A PyTorch float64 eager gradient-descent step of ``net``'s architecture, as a closure
    (its own copy of the parameters, made now)."""
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


def example_data(net, count: int, seed: int = 0):
    """(x, y) of ``count`` samples as a user passes them (one (C, H, W) image for ``count`` 1):
    pixels uniform in [0, 1]; class labels, 0/1 targets or one-hot rows as the loss takes them."""
    rng = np.random.default_rng(seed)
    x = rng.random((count, *net.input_shape))
    classes = net.output_size
    if net.loss_name == "cross_entropy":
        y = rng.integers(0, classes, count)
    elif net.loss_name == "bce" and classes > 1:
        y = np.eye(classes)[rng.integers(0, classes, count)]
    else:
        y = rng.integers(0, 2, (count, classes)).astype(float)
    return (x[0], y[0]) if count == 1 else (x, y)


def step_contenders(net, count: int, seed: int = 0) -> dict:
    """{"symcnn": net.step, "torch": eager step, "numpy": hand-written step} on the same data,
    each with its own parameters (copied before any step is taken)."""
    x, y = example_data(net, count, seed)
    batch, _ = net.as_batch(x)
    targets = net.as_targets(y, len(batch))
    numpy_step = NumpyStep(net)
    torch_closure = torch_step(net, x, y, LEARNING_RATE)
    return {"symcnn": lambda: net.step(x, y, LEARNING_RATE), "torch": torch_closure,
            "numpy": lambda: numpy_step.step(batch, targets, LEARNING_RATE)}


STEP_HEADERS = ["network", "samples", "rounds", "symcnn net.step ms", "torch eager ms", "numpy ms",
                "symcnn/numpy", "symcnn/torch"]
BUILD_HEADERS = ["network", "build cost", "repeats", "build s"]
SWEEP_HEADERS = ["image", "build cost", "build s", "rounds", "symcnn net.step ms", "torch eager ms", "numpy ms",
                 "symcnn/numpy", "symcnn/torch"]


def _step_row(label, count, rounds, times):
    return [label, count, rounds, _cell(times["symcnn"]), _cell(times["torch"]), _cell(times["numpy"]),
            _ratio(times["symcnn"], times["numpy"]), _ratio(times["symcnn"], times["torch"])]


def a_like_network(size: int, max_build_cost=None) -> Network:
    """Network A's layers (sigmoid convs 3, 5, 7, dense 1, bce) on a 1 x ``size`` x ``size`` image."""
    return Network((1, size, size), a_like_layers(), loss="bce", max_build_cost=max_build_cost)


def a_like_layers() -> list:
    """The layers of :func:`a_like_network` (fresh objects)."""
    return [Conv2D(1, 3, activation="sigmoid", bias=False), Conv2D(1, 5, activation="sigmoid", bias=False),
            Conv2D(1, 7, activation="sigmoid", bias=False), Flatten(), Dense(1, activation="sigmoid", bias=False)]


def run_benchmarks(networks=("a", "b", "c", "d"), rounds=FULL["rounds"], batch_rounds=FULL["batch_rounds"],
                   batch_size: int = 32, build_repeats=FULL["build_repeats"], sizes=FULL["sizes"],
                   sweep_rounds=FULL["sweep_rounds"], allow_slow_builds: bool = False,
                   progress: bool = False, larger=()) -> dict:
    """Measure steps (1 image and ``batch_size``), builds, the image-size sweep and the ``larger``
    networks (names of :data:`LARGER_NETWORKS`, none by default; ``scripts/bench.py`` times all of them:
    build and one image, ``sweep_rounds`` rounds).

    Returns {"machine": lines, "tables": [(title, headers, rows), ...], "notes": lines}. The
    sweep skips (with a note) a size whose build :data:`symcnn.graph.DEFAULT_MAX_BUILD_COST`
    refuses unless ``allow_slow_builds``. ``progress`` shows a bar over the measurements.
    """
    import torch

    torch.set_num_threads(1)
    limiter = _blas_limited_to_one_thread()
    notes = []
    if missing_one_thread_settings():
        notes.append("warning: not run with " + ", ".join(f"{k}=1" for k in ONE_THREAD)
                     + " (use scripts/bench.py or symcnn bench): BLAS may use several threads")
    unknown = [name for name in larger if name not in LARGER_NETWORKS]
    if unknown:
        raise ValueError(f"unknown larger network(s) {unknown}; expected names of LARGER_NETWORKS: "
                         f"{list(LARGER_NETWORKS)}")
    total = len(networks) * (2 + 1) + len(sizes) + len(larger)
    step_rows, build_rows, sweep_rows, larger_rows = [], [], [], []
    try:
        with ProgressBar(total, "benchmark", enabled=progress, unit="measurement") as bar:
            for name in networks:
                bar.update(0, measuring=f"{name.upper()} build")
                builds = []
                for _ in range(build_repeats):
                    started = time.perf_counter()
                    net = presets.get(name)
                    builds.append(time.perf_counter() - started)
                build_rows.append([name.upper(), f"{estimated_build_cost(net.input_shape, net.layers)[0]:,}",
                                   build_repeats, _cell(builds, scale=1.0)])
                bar.update()
                for count, count_rounds in ((1, rounds), (batch_size, batch_rounds)):
                    bar.update(0, measuring=f"{name.upper()} x{count}")
                    times = interleaved_rounds(step_contenders(presets.get(name), count), count_rounds)
                    step_rows.append(_step_row(name.upper(), count, count_rounds, times))
                    bar.update()
            for size in sizes:
                bar.update(0, measuring=f"A-like {size}x{size}")
                sweep_rows.append(sweep_row(size, sweep_rounds, allow_slow_builds, notes))
                bar.update()
            for name in larger:
                bar.update(0, measuring=LARGER_NETWORKS[name][0])
                larger_rows.append(larger_row(name, sweep_rounds))
                bar.update()
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
    tables = [("Training step, ms: median (interquartile range), rounds interleaved", STEP_HEADERS,
               step_rows),
              ("Build (Network construction), s", BUILD_HEADERS, build_rows),
              ("Image-size sweep: A-like network (sigmoid convs 3, 5, 7 + dense 1, bce), one image",
               SWEEP_HEADERS, sweep_rows)]
    if larger_rows:
        tables.append(("Larger networks, one image", ["network"] + SWEEP_HEADERS[1:], larger_rows))
    return {"machine": machine_lines(), "tables": tables, "notes": notes}


def larger_row(name: str, rounds: int) -> list:
    """Build time and one-image step times of the network ``name`` of :data:`LARGER_NETWORKS`."""
    label, input_shape, layers, loss = LARGER_NETWORKS[name]
    cost = estimated_build_cost(input_shape, layers())[0]
    return _built_and_timed(label, cost, lambda: Network(input_shape, layers(), loss=loss), rounds)


def _built_and_timed(label, cost, build, rounds) -> list:
    """[label, cost, build s, rounds, the step cells]: ``build()`` timed once, then one image's steps."""
    started = time.perf_counter()
    net = build()
    seconds = time.perf_counter() - started
    times = interleaved_rounds(step_contenders(net, 1), rounds)
    return [label, f"{cost:,}", f"{seconds:.2f}"] + _step_row(label, 1, rounds, times)[2:]


def sweep_row(size: int, rounds: int, allow_slow_builds: bool, notes: list) -> list:
    """One row of the image-size sweep (:data:`SWEEP_HEADERS`) for the A-like network on ``size`` x ``size``;
    a size the build budget refuses is skipped with a line in ``notes`` unless ``allow_slow_builds``."""
    cost = estimated_build_cost((1, size, size), a_like_layers())[0]
    label = f"{size}x{size}"
    try:
        check_build_budget((1, size, size), a_like_layers())
        budget = None
    except ValueError:
        if not allow_slow_builds:
            notes.append(f"{label} skipped: its build cost {cost:,} exceeds DEFAULT_MAX_BUILD_COST="
                         f"{DEFAULT_MAX_BUILD_COST:,} (--allow-slow-builds builds it anyway)")
            return [label, f"{cost:,}", "skipped"] + ["-"] * (len(SWEEP_HEADERS) - 3)
        budget = cost
    return _built_and_timed(label, cost, lambda: a_like_network(size, max_build_cost=budget), rounds)


def _blas_limited_to_one_thread():
    """threadpoolctl's one-thread limit on every BLAS/OpenMP pool, or None without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=1)
