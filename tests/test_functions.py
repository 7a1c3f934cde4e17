"""symcnn.functions: each elementary function's numbers, its declared derivative, and its C source.

The numpy implementations are compared with PyTorch's own functions (float64), the declared
derivatives (as the evaluator compiles them) with central differences of the implementations,
and the C sources with the numpy implementations, compiled by the system's C compiler.
"""

import shutil
import subprocess

import numpy as np
import pytest
import sympy

from symcnn import functions
from symcnn.evaluate import compile_expressions
from tests.reference import assert_matches_input_finite_differences

torch = pytest.importorskip("torch")
F = torch.nn.functional

#: Points away from every kink (ReLU at 0) and every tie (max over a window), including large ones.
POINTS = np.array([-40.0, -7.5, -1.25, -0.3, 0.2, 0.9, 3.0, 12.0, 35.0])
WINDOWS = np.array([[0.3, -1.2, 2.5], [-0.7, 0.1, -3.0], [4.0, 4.5, -2.0], [-9.0, -8.5, -8.75]])

UNARY = {functions.Sigmoid: torch.sigmoid, functions.LogSigmoid: F.logsigmoid, functions.ReLU: torch.relu,
         functions.Step: lambda z: (z > 0).to(torch.float64)}


def test_every_elementary_function_is_tested_here():
    assert set(functions.ELEMENTARY_FUNCTIONS) == set(UNARY) | {functions.LogSumExp, functions.WindowMax,
                                                                 functions.FirstMax}


@pytest.mark.parametrize("function", list(UNARY), ids=lambda f: f.__name__)
def test_unary_implementations_equal_pytorch(function):
    expected = UNARY[function](torch.tensor(POINTS, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(function.numpy_implementation(POINTS), expected, rtol=1e-13, atol=1e-300)


def test_window_functions_equal_pytorch():
    windows = torch.tensor(WINDOWS, dtype=torch.float64)
    columns = list(WINDOWS.T)
    np.testing.assert_allclose(functions.LogSumExp.numpy_implementation(*columns),
                               torch.logsumexp(windows, dim=1).numpy(), rtol=1e-14)
    np.testing.assert_array_equal(functions.WindowMax.numpy_implementation(*columns), windows.max(dim=1).values)
    first = windows.argmax(dim=1).numpy()
    for k in range(WINDOWS.shape[1]):
        np.testing.assert_array_equal(functions.FirstMax.numpy_implementation(k, *columns), (first == k) * 1.0)


def test_ties_go_to_the_first_maximum_and_relu_has_slope_0_at_0():
    assert functions.FirstMax.numpy_implementation(0, np.array(1.0), np.array(1.0)) == 1.0
    assert functions.FirstMax.numpy_implementation(1, np.array(1.0), np.array(1.0)) == 0.0
    assert functions.Step.numpy_implementation(np.array(0.0)) == 0.0  # ReLU'(0) = 0, as PyTorch


@pytest.mark.parametrize("function", [functions.Sigmoid, functions.LogSigmoid, functions.ReLU],
                         ids=lambda f: f.__name__)
def test_declared_derivatives_equal_central_differences(function):
    z = sympy.Symbol("z")
    derivative = compile_expressions([z], [sympy.diff(function(z), z)])
    points = POINTS[np.abs(POINTS) < 20]  # where a difference quotient of e^{-|z|} is still resolved
    assert_matches_input_finite_differences(lambda x: float(np.sum(function.numpy_implementation(x))), points,
                                            derivative(points)[0], rtol=1e-7)


def test_window_derivatives_equal_central_differences():
    entries = sympy.symbols("x0:3")
    for function in (functions.LogSumExp, functions.WindowMax):
        partials = compile_expressions([list(entries)], [sympy.diff(function(*entries), x) for x in entries])
        for window in WINDOWS:
            assert_matches_input_finite_differences(
                lambda values: float(function.numpy_implementation(*values)), window,
                np.array(partials(list(window)), dtype=float), rtol=1e-7)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no C compiler")
def test_c_sources_compute_what_numpy_computes(tmp_path):
    unary = [f for f in functions.ELEMENTARY_FUNCTIONS if f.unary]
    lines = ["#include <math.h>", "#include <stdio.h>"] + [f.c_source() for f in unary]
    lines += [functions.WindowMax.c_source(3), functions.LogSumExp.c_source(3), functions.FirstMax.c_source(3)]
    calls = [f'printf("%.17g\\n", {f.helper}({float(z)!r}));' for f in unary for z in POINTS]
    calls += [f'printf("%.17g\\n", {f.helper}_3({", ".join(repr(float(v)) for v in w)}));'
              for f in (functions.WindowMax, functions.LogSumExp) for w in WINDOWS]
    calls += [f'printf("%.17g\\n", symcnn_first_max_3({k}, {", ".join(repr(float(v)) for v in w)}));' for k in range(3)
              for w in WINDOWS]
    source = tmp_path / "functions.c"
    source.write_text("\n".join(lines + ["int main(void) {"] + calls + ["return 0;", "}"]) + "\n")
    subprocess.run(["gcc", "-std=c99", "-O1", "-o", str(tmp_path / "functions"), str(source), "-lm"], check=True)
    printed = [float(v) for v in subprocess.run([str(tmp_path / "functions")], capture_output=True, text=True,
                                                check=True).stdout.split()]
    expected = [float(f.numpy_implementation(np.array(z))) for f in unary for z in POINTS]
    expected += [float(f.numpy_implementation(*map(np.array, w))) for f in (functions.WindowMax, functions.LogSumExp)
                 for w in WINDOWS]
    expected += [float(functions.FirstMax.numpy_implementation(k, *map(np.array, w)))
                 for k in range(3) for w in WINDOWS]
    np.testing.assert_allclose(printed, expected, rtol=1e-15, atol=1e-300)
