"""Exported source (Python/NumPy and C) computes what the engine computes (networks A and C)."""

import ctypes
import shutil
import subprocess

import numpy as np
import pytest
import sympy

import symcnn as sc
from tests.shared import network_c_off_the_kinks
from symcnn import inspect as si
from symcnn.codegen import argument_symbols
from symcnn.losses import loss_of_logits

COMPILER = shutil.which("gcc") or shutil.which("cc")
needs_compiler = pytest.mark.skipif(COMPILER is None, reason="no C compiler (gcc or cc) found: the exported C "
                                                              "source cannot be compiled and run here")


def run_python(source, values, name="derivative"):
    namespace = {}
    exec(compile(source, "<exported>", "exec"), namespace)
    return namespace[name](values)


def run_c(source, values, folder, outputs=None, name="derivative"):
    """Compile ``source`` into a shared library with the C compiler and call it through ctypes."""
    code, library = folder / f"{name}.c", folder / f"{name}.so"
    code.write_text(source)
    subprocess.run([COMPILER, "-std=c99", "-O0", "-Wall", "-Werror", "-shared", "-fPIC", "-o", str(library),
                    str(code), "-lm"], check=True, capture_output=True, text=True)
    function = getattr(ctypes.CDLL(str(library)), name)
    arguments = (ctypes.c_double * max(len(values), 1))(*values)
    if outputs is None:
        function.restype = ctypes.c_double
        return function(arguments)
    results = (ctypes.c_double * outputs)()
    function.restype = None
    function(arguments, results)
    return list(results)


@pytest.fixture(scope="module")
def net_a():
    return sc.presets.network_a(seed=1)


@pytest.fixture(scope="module")
def net_c():
    return network_c_off_the_kinks(seed=2, bias_seed=3)


@pytest.fixture(scope="module")
def digit(mnist):
    images, labels = mnist()
    return images[1], int(labels[1])


def gradient_case(net, x, y):
    """One gradient expression per parameter array (its largest entry), and net.gradients there."""
    gradients = net.gradients(x, y)
    expressions, expected = [], []
    for key, gradient in gradients.items():
        index = np.unravel_index(np.argmax(np.abs(gradient)), gradient.shape)
        expressions.append(net.gradient_expression(net.weight_symbols(key)[index]))
        expected.append(gradient[index])
    return expressions, np.array(expected)


def values_of(net, x, y, expressions):
    trace = si.Trace(net, x, y)
    return [float(trace.value(s)[0]) for s in argument_symbols(expressions)]


@pytest.mark.parametrize("which", ["a", "c"])
def test_exported_python_gradients_equal_the_engines(which, net_a, net_c, photo, digit):
    net, x, y = (net_a, photo, 1.0) if which == "a" else (net_c, *digit)
    expressions, expected = gradient_case(net, x, y)
    source = sc.export(expressions, "python")
    assert [line for line in source.splitlines() if "import" in line] == ["import numpy"]  # standalone
    values = values_of(net, x, y, expressions)
    assert np.allclose(run_python(source, values), expected, rtol=1e-9, atol=0)


@needs_compiler
@pytest.mark.parametrize("which", ["a", "c"])
def test_exported_c_gradients_equal_the_engines(which, net_a, net_c, photo, digit, tmp_path):
    net, x, y = (net_a, photo, 1.0) if which == "a" else (net_c, *digit)
    expressions, expected = gradient_case(net, x, y)
    values = values_of(net, x, y, expressions)
    results = run_c(sc.export(expressions, "c"), values, tmp_path, outputs=len(expressions))
    assert np.allclose(results, expected, rtol=1e-9, atol=0)


def opaque_function_cases(net_a, net_c):
    """Expressions holding each opaque function of symcnn.functions, and which function."""
    graph_a, graph_c = net_a.graph, net_c.graph
    conv_a = graph_a.layer_nodes[0]
    conv, pool, dense = graph_c.layer_nodes
    logits_loss = loss_of_logits("bce", "sigmoid", list(graph_a.logit_symbols), list(graph_a.target_symbols))
    return [("Sigmoid", net_a, si.expanded_form(net_a, conv_a.outputs[0, 4, 4])),
            ("LogSigmoid", net_a, logits_loss),
            ("ReLU", net_c, si.expanded_form(net_c, conv.outputs[1, 14, 14])),
            ("Step", net_c, si.expanded_form(net_c, conv.outputs[1, 14, 14], conv.pre_activations[1, 14, 14])),
            ("LogSumExp", net_c, si.expanded_form(net_c, dense.outputs[3])),
            ("WindowMax", net_c, si.expanded_form(net_c, pool.outputs[1, 7, 7])),
            ("FirstMax", net_c, sum(si.expanded_form(net_c, pool.outputs[1, 7, 7], conv.outputs[1, r, c]) * (r + 2 * c)
                                    for r in (14, 15) for c in (14, 15)))]


def test_every_opaque_function_is_defined_in_the_exported_code(net_a, net_c, photo, digit, tmp_path):
    for function, net, expression in opaque_function_cases(net_a, net_c):
        assert function in {type(f).__name__ for f in expression.atoms(sympy.Function)}
        x, y = (photo, 1.0) if net is net_a else digit
        expected = net.evaluate(expression, x, y)
        values = values_of(net, x, y, expression)
        assert run_python(sc.export(expression, "python"), values) == pytest.approx(expected, rel=1e-12, abs=1e-300)
        if COMPILER is not None:
            compiled = run_c(sc.export(expression, "c", name=function.lower()), values, tmp_path, name=function.lower())
            assert compiled == pytest.approx(expected, rel=1e-12, abs=1e-300), function


def test_exported_sigmoid_stays_finite_far_from_zero(tmp_path):
    z = sympy.Symbol("z")
    expression = sc.functions.Sigmoid(z) + sc.functions.LogSigmoid(z)
    for value in (-800.0, 800.0):
        assert np.isfinite(run_python(sc.export(expression), [value]))
        if COMPILER is not None:
            assert np.isfinite(run_c(sc.export(expression, "c"), [value], tmp_path))


def test_sums_longer_than_pythons_compiler_takes_are_split(tmp_path):
    terms = sympy.symbols("s0:6000")
    values = list(np.arange(6000.0))
    source = sc.export(sympy.Add(*[t * t for t in terms]))
    assert run_python(source, values) == pytest.approx(sum(v * v for v in values), rel=1e-15)
    if COMPILER is not None:
        assert run_c(sc.export(sympy.Add(*terms), "c"), values, tmp_path) == sum(values)


def test_arguments_by_order_or_by_name():
    x, w = sympy.symbols("x_0 w__1_0")
    source = sc.export(w * x + w, arguments=[x, w])
    assert "ARGUMENTS = (\n    'x_0',\n    'w__1_0',\n)" in source
    assert run_python(source, [2.0, 3.0]) == 9.0 == run_python(source, {"w__1_0": 3.0, "x_0": 2.0})


def test_export_says_what_it_cannot_do():
    x = sympy.Symbol("x")
    with pytest.raises(ValueError, match="language must be one of"):
        sc.export(x, "fortran")
    with pytest.raises(ValueError, match="not usable as a variable name"):
        sc.export(sympy.Symbol("a b") + x)
    with pytest.raises(ValueError, match="arguments lack"):
        sc.export(x + sympy.Symbol("y"), arguments=[x])


def test_user_activation_and_loss_export_as_named_helpers(tmp_path, rng):
    swish = sc.Activation("swish", lambda z: z * sc.sigmoid(z))
    net = sc.Network((1, 4, 4), [sc.Conv2D(1, 3, activation=swish), sc.Flatten(), sc.Dense(2, activation="gelu")],
                     loss="huber", seed=1)
    x, y = rng.random((1, 4, 4)), rng.normal(size=2) * 2
    conv, dense = net.graph.layer_nodes
    expressions = [dense.output_at((1,)), conv.output_at((0, 1, 0)), net.graph.loss_expression,
                   si.expanded_form(net, conv.outputs[0, 1, 0], conv.pre_activations[0, 1, 0])]
    expected = [net.evaluate(e, x, y) for e in expressions]
    values = values_of(net, x, y, expressions)
    python = sc.export(expressions, "python")
    assert "def symcnn_def_swish(z):" in python and "def symcnn_def_huber(p, t):" in python
    assert run_python(python, values) == pytest.approx(expected, rel=1e-12)
    if COMPILER is not None:
        c = sc.export(expressions, "c")
        assert "static double symcnn_def_gelu(double z)" in c
        assert run_c(c, values, tmp_path, outputs=len(expressions)) == pytest.approx(expected, rel=1e-12)
