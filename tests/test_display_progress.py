"""Progress bars (symcnn.display.progress): tqdm bars that end on the total and never pile up in a file."""

import io

import numpy as np
import pytest

import symcnn as sc
from symcnn.display import progress


def test_written_to_a_file_every_update_is_its_own_line(monkeypatch):
    monkeypatch.setattr(progress, "FILE_INTERVAL", 0)  # draw on every update, the worst case for a file
    stream = io.StringIO()
    with progress.ProgressBar(50, "training", stream=stream) as bar:
        for step in range(50):
            bar.update(loss=1.0 / (step + 1))
    text = stream.getvalue()
    lines = text.splitlines()
    assert "\r" not in text and text.endswith("\n")
    assert len(lines) > 10 and all(len(line) < 120 for line in lines)  # many short lines, not one long one
    assert lines[-1].startswith("training: 100%") and "50/50" in lines[-1] and "loss=0.02" in lines[-1]
    assert bar.done == 50


def test_by_default_a_file_gets_few_lines():
    stream = io.StringIO()
    with progress.ProgressBar(10_000, "training", stream=stream) as bar:
        for _ in range(10_000):
            bar.update(loss=0.5)
    lines = stream.getvalue().splitlines()
    assert len(lines) <= 3 and "10000/10000" in lines[-1]


def test_nested_bars_in_a_file_are_whole_lines_without_cursor_codes():
    """An outer bar with an inner one (a build inside a benchmark, say) redraws by moving the cursor up."""
    stream = io.StringIO()
    with progress.ProgressBar(2, "outer", stream=stream) as outer:
        for _ in range(2):
            with progress.ProgressBar(3, "inner", stream=stream) as inner:
                for _ in range(3):
                    inner.update()
            outer.update()
    lines = stream.getvalue().splitlines()
    assert "\x1b" not in stream.getvalue() and all(line.strip() for line in lines)
    assert [line.split(":")[0] for line in lines] == ["outer", "inner", "inner", "inner", "inner", "outer"]


def test_disabled_draws_nothing_but_counts():
    stream = io.StringIO()
    with progress.ProgressBar(4, "training", enabled=False, stream=stream) as bar:
        bar.update(2, loss=0.1)
        bar.update(2)
    assert stream.getvalue() == "" and bar.done == 4


def test_text_values_are_shown_as_given():
    stream = io.StringIO()
    with progress.ProgressBar(2, "benchmark", stream=stream) as bar:
        bar.update(measuring="A torch step")
        bar.update()
    assert "measuring=A torch step" in stream.getvalue().splitlines()[-1]


def test_fit_shows_its_loss_on_stderr_and_stops_when_asked(capsys):
    net = sc.Network((1, 4, 4), [sc.Conv2D(1, 3, activation="sigmoid"), sc.Flatten(), sc.Dense(1, activation="sigmoid")],
                     seed=0)
    x, y = np.random.default_rng(0).random((3, 1, 4, 4)), [1.0, 0.0, 1.0]
    history = net.fit(x, y, lr=0.1, epochs=2, batch_size=1, progress=True)
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("training: 100%") and "6/6" in last and f"loss={history[-1]:.4g}" in last
    net.fit(x, y, lr=0.1, epochs=1, progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("progress_on", [True, False])
def test_benchmark_progress_counts_every_measurement(capsys, progress_on):
    pytest.importorskip("torch")
    from symcnn.benchmark import run_benchmarks

    results = run_benchmarks(networks=("a",), rounds=1, batch_rounds=1, batch_size=2, build_repeats=1, sizes=(27,),
                             sweep_rounds=1, progress=progress_on)
    assert results["tables"][0][2][0][0] == "A"
    err = capsys.readouterr().err
    assert ("4/4" in err.splitlines()[-1]) if progress_on else err == ""  # build, 1 image, batch, one size


def test_a_long_build_shows_its_progress_layer_by_layer(monkeypatch, capsys):
    def small_network():
        return sc.Network((1, 6, 6), [sc.Conv2D(2, 3, activation="relu"), sc.Flatten(),
                                      sc.Dense(2, activation="softmax")], loss="cross_entropy")

    small_network()
    assert capsys.readouterr().err == ""  # a quick build draws nothing
    monkeypatch.setattr("symcnn.network.BUILD_PROGRESS_FROM", 0)  # as if the build were long
    small_network()
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("building: 100%") and "4/4" in last and "layer=compiled" in last  # 3 layers, compiling
