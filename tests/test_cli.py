"""The ``symcnn`` command, run as ``python -m symcnn`` in a subprocess like a user would."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

import symcnn as sc
from symcnn.benchmark import missing_one_thread_settings
from symcnn.graph import estimated_build_cost
from tests.shared import MNIST_DIRECTORY


def run(*arguments, cwd=None):
    """Run ``python -m symcnn ARGUMENTS``; returns the CompletedProcess (text output)."""
    return subprocess.run([sys.executable, "-m", "symcnn", *map(str, arguments)], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def needs_mnist():
    if not any(MNIST_DIRECTORY.glob("t10k-images-idx3-ubyte*")):
        pytest.skip(f"MNIST test set not found in {MNIST_DIRECTORY}")


def assert_one_line_error(result, command):
    """A non-zero exit and exactly one 'symcnn COMMAND: error: ...' line on stderr, no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and errors[0].startswith(f"symcnn {command}: error: "), result.stderr


@pytest.mark.parametrize("command", ["demo", "train", "inspect", "bench"])
def test_help(command):
    result = run(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: symcnn {command}")


def test_demo_writes_png(tmp_path):
    out = tmp_path / "x.png"
    result = run("demo", "--steps", 2, "--out", out)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_train_d_writes_model_and_curve(tmp_path):
    needs_mnist()
    result = run("train", "--preset", "d", "--data", MNIST_DIRECTORY, "--epochs", 2, "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    model, curve = tmp_path / "d.symcnn", tmp_path / "d-loss.png"
    assert str(model) in result.stdout and str(curve) in result.stdout
    assert "final loss" in result.stdout and "accuracy" in result.stdout
    assert curve.read_bytes()[:4] == b"\x89PNG"
    net = sc.load(model)
    assert net.params["dense4.weight"].shape == (2, 1125) and len(net.history) == 2


def test_train_a_on_the_photo(tmp_path):
    result = run("train", "--preset", "a", "--epochs", 3, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "symcnn-out" / "a.symcnn").is_file()
    assert (tmp_path / "symcnn-out" / "a-loss.png").is_file()
    assert "final loss" in result.stdout


def inspect_output(*arguments, columns=100):
    """stdout of ``symcnn inspect ARGUMENTS`` in a terminal ``columns`` wide (fails on a non-zero exit)."""
    result = subprocess.run([sys.executable, "-m", "symcnn", "inspect", *map(str, arguments)], capture_output=True,
                            text=True, timeout=600, env={**os.environ, "COLUMNS": str(columns)})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_inspect_default_fits_a_screen(net_a):
    """Network A's 225-term gradient: its first terms, its last, the count and the flags that show more,
    each line within the terminal's width; the shown terms are the formula's own."""
    lines = inspect_output().splitlines()
    assert len(lines) < 60, len(lines)
    assert all(len(line) <= 100 for line in lines), max(lines, key=len)
    w = net_a.weight_symbols("conv3.weight")[0, 0, 3, 3]
    expected = sc.display.formula_text(net_a.gradient_expression(w), left=(net_a.graph.loss_symbol, w), width=100)
    assert "\n".join(lines).startswith(expected) and "[225 terms]" in expected
    assert lines[0].startswith("∂L/∂w⁽³⁾[0,0,3,3] = ∂L/∂a⁽³⁾[0,0,0]⋅a⁽³⁾[0,0,0]⋅(1 - a⁽³⁾[0,0,0])⋅a⁽²⁾[0,3,3]")
    hint = " ".join(lines[len(expected.splitlines()):])
    assert "--all-terms prints all 225 terms" in hint and "--form rolled" in hint
    every = inspect_output("--all-terms").splitlines()
    assert len(every) == 225 and every[-1].strip().startswith("+ ∂L/∂a⁽³⁾[0,14,14]")


def test_inspect_rolled_prints_the_sigma_form():
    text = inspect_output("--form", "rolled")
    assert "∂L/∂w⁽³⁾[f, c, u, v] =" in text and "j = 0 i = 0" in text
    assert "∂z⁽³⁾[f, i, j]/∂w⁽³⁾[f, c, u, v] = a⁽²⁾[c, i + u, j + v]" in text
    assert len(text.splitlines()) < 60


@pytest.mark.parametrize("arguments", [
    [], ["--all-terms"], ["--terms", 2], ["--form", "rolled"],
    ["--what", "ledger"], ["--what", "ledger", "--all-terms"],
    ["--what", "derivation", "--weight", "conv2.weight[0,0,2,2]"],
    ["--what", "derivation", "--weight", "conv2.weight[0,0,2,2]", "--all-terms"],
    ["--what", "derivation", "--weight", "dense4.weight[0,3]"]], ids=lambda a: " ".join(map(str, a)) or "default")
def test_inspect_latex_renders(arguments, katex):
    """Every --what and --form as LaTeX: bare math (no $), one block, rendered by KaTeX."""
    latex = inspect_output(*arguments, "--format", "latex").strip()
    assert "$" not in latex and "\n" not in latex
    katex.assert_renders([latex])


def test_inspect_latex_of_the_gradient_and_its_rolled_form():
    gradient = inspect_output("--format", "latex")
    assert gradient.startswith(r"\begin{aligned} \frac{\partial L}{\partial w^{(3)}_{0,0,3,3}} &= ")
    assert r"\text{(225 terms)}" in gradient and r"\cdots" in gradient
    rolled = inspect_output("--form", "rolled", "--format", "latex")
    assert r"\sum_{i=0}^{14}\sum_{j=0}^{14}" in rolled


def test_inspect_derivation_ends_in_the_gradient(photo):
    text = inspect_output("--what", "derivation", "--weight", "conv2.weight[0,0,2,2]")
    lines = text.splitlines()
    assert lines[0].startswith("∂L/∂w⁽²⁾[0,0,2,2] = ") and "1. output error (BP1)" in text
    assert len(lines) < 60
    assert all(len(line) <= 100 for line in lines if not line.startswith("   in general")), max(lines, key=len)
    net = sc.presets.network_a()
    printed = float(lines[-1].split(" = ")[1])
    assert abs(printed - net.gradients(photo, 1.0)["conv2.weight"][0, 0, 2, 2]) <= 1e-9 * abs(printed)


def test_inspect_derivation_of_network_c(katex):
    """Network C's dense weight on the first default test digit: text and LaTeX (rendered by KaTeX)."""
    needs_mnist()
    arguments = ["--preset", "c", "--data", MNIST_DIRECTORY, "--what", "derivation", "--weight", "dense3.weight[4,0]"]
    text = inspect_output(*arguments)
    assert "where        ∂a⁽³⁾[m]/∂z⁽³⁾[k] = a⁽³⁾[m]⋅(δ[k, m] - a⁽³⁾[k])" in text
    assert "= a⁽³⁾[4] - y[4]" in text
    katex.assert_renders([inspect_output(*arguments, "--format", "latex").strip()])


def test_inspect_ledger():
    assert inspect_output("--what", "ledger").startswith("Chain-rule ledger of ∂L/∂w⁽³⁾[0,0,3,3]")


def test_bench_re_runs_itself_on_one_thread_and_prints_the_machine_and_its_tables():
    result = run("bench", "--quick", "--networks", "a", "--rounds", 2, "--batch-rounds", 1, "--batch-size", 2,
                 "--sizes")
    assert result.returncode == 0, result.stderr
    if missing_one_thread_settings():  # the command was started without them
        assert "symcnn bench: re-running with OMP_NUM_THREADS=1" in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("CPU: ") and "OPENBLAS_NUM_THREADS=1" in lines[3] and "torch 1;" in lines[3]
    tables = [line for line in lines if line.startswith("| ")]
    assert tables[0].startswith("| network | samples | rounds | symcnn net.step ms |")
    net_a = sc.presets.network_a()
    cost = f"{estimated_build_cost(net_a.input_shape, net_a.layers).cost:,}"  # the build table's cost column
    assert [line.split(" | ")[:2] for line in tables if line.startswith("| A |")] == [["| A", "1"], ["| A", "2"],
                                                                                      ["| A", cost]]


@pytest.mark.parametrize("command, arguments", [
    ("train", ["--preset", "z"]),
    ("inspect", ["--weight", "conv9.weight[0,0,0,0]"]),
    ("inspect", ["--weight", "conv1.weight[0,0,5,1]"]),
    ("inspect", ["--weight", "conv1.weight[0,0"]),
    ("inspect", ["--what", "ledger", "--form", "rolled"]),
    ("inspect", ["--terms", "0"]),
    ("inspect", ["--terms", "1"]),
    ("inspect", ["--what", "derivation", "--preset", "c"]),
    ("train", ["--preset", "a", "--lr", "-1"]),
    ("train", ["--preset", "b"]),
    ("train", ["--preset", "b", "--data", "/nonexistent/mnist"]),
    ("train", ["--preset", "b", "--data", MNIST_DIRECTORY, "--train", "0:100", "--test", "50:60"]),
])
def test_bad_input_is_one_line_error(command, arguments):
    result = run(command, *arguments)
    assert_one_line_error(result, command)


@pytest.mark.parametrize("command, arguments, expected", [
    ("demo", ["--out", "/no/such/dir/x.png"], r"the directory '/no/such/dir' does not exist"),
    ("demo", ["--out", "."], r"'\.' is a directory; give a file name"),
    ("train", ["--preset", "a", "--out", "{file}/models"], r"is not a directory"),
])
def test_an_unusable_output_path_is_refused_before_any_work(tmp_path, command, arguments, expected):
    (tmp_path / "file").write_text("in the way")
    result = run(command, *[argument.format(file=tmp_path / "file") for argument in arguments])
    assert_one_line_error(result, command)
    assert re.search(expected, result.stderr), result.stderr
    assert "step" not in result.stdout and "network" not in result.stdout  # nothing was trained first


def test_ctrl_c_stops_with_one_line_and_exit_code_130(tmp_path):
    """SIGINT during `symcnn train` (a 57-line traceback before): one line saying what was saved."""
    process = subprocess.Popen([sys.executable, "-m", "symcnn", "train", "--preset", "a", "--epochs", "1000000",
                                "--out", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().startswith("network A:")  # training has begun
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.replace("\r", "\n").splitlines() if "symcnn train" in line]
    assert lines == ["symcnn train: interrupted; nothing was saved"], stderr
    assert not (tmp_path / "a.symcnn").exists()
