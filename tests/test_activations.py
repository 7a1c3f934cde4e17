"""Activations: the new built-ins against PyTorch's own functions, user-defined ones end to end, bad input."""

import math

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as F

import symcnn as sc
from symcnn.activations import ACTIVATIONS, Z, Activation
from symcnn.evaluate import compile_expressions
from symcnn.torch_reference import TORCH_ACTIVATIONS, torch_log_complement
from tests.reference import (assert_arrays_close, assert_entry_matches_torch, assert_matches_finite_differences,
                             assert_matches_torch, torch_vector_jacobian_product)

#: (symcnn activation, PyTorch's function written independently, points where it is not smooth)
BUILT_INS = [
    ("leaky_relu", lambda z: F.leaky_relu(z, 0.01), [0.0]),
    (sc.leaky_relu(0.2), lambda z: F.leaky_relu(z, negative_slope=0.2), [0.0]),
    ("elu", lambda z: F.elu(z), [0.0]),
    (sc.elu(0.5), lambda z: F.elu(z, alpha=0.5), [0.0]),
    ("softplus", lambda z: F.softplus(z), []),
    ("silu", lambda z: F.silu(z), []),
    ("gelu", lambda z: F.gelu(z, approximate="tanh"), []),
]
#: PyTorch computes gelu as z/2 (1 + tanh(u)), which cancels for z < -3 (1 + tanh(u) < 0.01):
#: compared there with a 400-digit evaluation of the same formula instead
GELU_CANCELS_BELOW = -3.0
#: PyTorch's softplus returns z itself above z = 20 (its threshold); symcnn's is log(1 + e^z) there too
LARGEST = 20.0
POINTS = np.concatenate([np.linspace(-LARGEST, LARGEST, 161), [-1e-300, -1e-12, 1e-12, 1e-300, -700.0]])


def _compiled(activation):
    function = ACTIVATIONS[activation] if isinstance(activation, str) else activation
    return (compile_expressions([Z], function.expression), compile_expressions([Z], function.derivative))


def _torch_value_and_derivative(function, points):
    z = torch.tensor(points, dtype=torch.float64, requires_grad=True)
    value = function(z)
    value.sum().backward()
    return value.detach().numpy(), z.grad.numpy()


def _assert_close(actual, expected, rtol, what):
    scale = np.maximum(np.abs(expected), 1e-300)
    error = float(np.max(np.abs(np.broadcast_to(actual, expected.shape) - expected) / scale))
    assert error <= rtol, f"{what}: max relative error {error:.3g} > {rtol}"


@pytest.mark.parametrize("activation, reference, kinks", BUILT_INS, ids=lambda a: str(a) if not callable(a) else "")
def test_built_in_equals_pytorch_values_and_derivatives(activation, reference, kinks):
    value, derivative = _compiled(activation)
    points = POINTS[POINTS >= GELU_CANCELS_BELOW] if activation == "gelu" else POINTS
    expected_value, expected_derivative = _torch_value_and_derivative(reference, points)
    _assert_close(value(points), expected_value, 1e-12, "value")
    _assert_close(derivative(points), expected_derivative, 1e-9, "derivative")


def test_gelu_keeps_its_precision_where_pytorchs_formula_cancels():
    value, derivative = _compiled("gelu")
    x = sympy.Symbol("x")
    inner = sympy.sqrt(2 / sympy.pi) * (x + sympy.Rational(44715, 10 ** 6) * x ** 3)
    # written again here, evaluated with 400 digits (1 + tanh(u) is 1e-261 at z = -20)
    textbook = x / 2 * (1 + sympy.tanh(inner))
    points = np.array([-3.0, -5.0, -8.0, -12.0, -20.0])
    expected_value = np.array([float(textbook.evalf(400, subs={x: p})) for p in points])
    expected_derivative = np.array([float(sympy.diff(textbook, x).evalf(400, subs={x: p})) for p in points])
    _assert_close(value(points), expected_value, 1e-13, "value")
    _assert_close(derivative(points), expected_derivative, 1e-12, "derivative")


@pytest.mark.parametrize("activation, reference, kinks", BUILT_INS, ids=lambda a: str(a) if not callable(a) else "")
def test_built_in_derivative_equals_central_differences(activation, reference, kinks):
    value, derivative = _compiled(activation)
    points = np.array([p for p in np.linspace(-6, 6, 49) if all(abs(p - k) > 1e-3 for k in kinks)])
    epsilon = 1e-6
    numeric = (value(points + epsilon) - value(points - epsilon)) / (2 * epsilon)
    np.testing.assert_allclose(derivative(points), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("activation, reference, slope_at_zero", [
    ("leaky_relu", lambda z: F.leaky_relu(z, 0.01), 0.01),  # PyTorch: z > 0 ? 1 : negative_slope
    (sc.leaky_relu(0.2), lambda z: F.leaky_relu(z, 0.2), 0.2),
    ("elu", F.elu, 1.0),  # PyTorch: z > 0 ? 1 : alpha e^z, so alpha at 0
    (sc.elu(0.5), lambda z: F.elu(z, alpha=0.5), 0.5),
])
def test_derivative_at_the_kink_follows_pytorch(activation, reference, slope_at_zero):
    _, derivative = _compiled(activation)
    _, torch_derivative = _torch_value_and_derivative(reference, np.array([0.0]))
    assert float(torch_derivative[0]) == slope_at_zero  # PyTorch's convention, as stated above
    assert float(derivative(np.array([0.0]))[0]) == slope_at_zero


def test_softplus_keeps_its_formula_beyond_pytorchs_threshold():
    value, derivative = _compiled("softplus")
    z = np.array([25.0, 40.0, 800.0])
    np.testing.assert_allclose(value(z), z + np.log1p(np.exp(-z)), rtol=1e-15)
    np.testing.assert_allclose(derivative(z), 1 / (1 + np.exp(-z)), rtol=1e-15)
    assert np.isfinite(value(np.array([-800.0]))).all()


def test_torch_reference_maps_every_built_in_name():
    assert set(ACTIVATIONS) <= set(TORCH_ACTIVATIONS)


SWISH = Activation("swish", lambda z: z * sc.sigmoid(z))
TORCH_FUNCTIONS = {"swish": lambda z: z * torch.sigmoid(z), "half_squared": lambda p, t: (p - t) ** 2 / 2}


def _user_network(seed=0):
    return sc.Network((2, 6, 6), [sc.Conv2D(3, 3, padding=1, activation=SWISH), sc.MaxPool2D(2),
                                  sc.Conv2D(2, 2, activation="gelu"), sc.Flatten(), sc.Dense(2, activation=SWISH)],
                      loss=sc.Loss("half_squared", lambda p, t: (p - t) ** 2 / 2), seed=seed)


def test_user_activation_in_a_conv_layer_matches_pytorch_and_finite_differences(rng):
    net = _user_network()
    x, y = rng.random((3, 2, 6, 6)), rng.normal(size=(3, 2))
    assert_matches_torch(net, x, y, functions=TORCH_FUNCTIONS)
    assert_matches_finite_differences(net, x, y)


def test_user_activation_trains(rng):
    net = _user_network()
    x, y = rng.random((4, 2, 6, 6)), rng.normal(size=(4, 2))
    history = net.fit(x, y, lr=0.3, epochs=80, progress=False)
    assert history[-1] < 0.5 * history[0]


def test_network_a_with_its_activation_swapped_matches_pytorch(photo):
    net = sc.presets.network_a()
    net.layers[0].activation = SWISH  # rebuilt below from the changed layer list
    net = sc.Network(net.input_shape, net.layers, loss=net.loss_name, seed=0)
    assert str(net.layers[0].activation) == "swish"
    assert_matches_torch(net, photo, 1.0, functions=TORCH_FUNCTIONS)


def test_user_activation_is_shown_by_name_in_formulas_derivations_and_exports(rng):
    net = _user_network()
    node = net.graph.layer_nodes[0]
    assert sympy.latex(node.output_at((0, 1, 1))) == r"\operatorname{swish}\left(z^{(1)}_{0,1,1}\right)"
    assert "swish" in repr(net)
    x, y = rng.random((2, 6, 6)), rng.normal(size=2)
    weight = net.weight_symbols("conv1.weight")[1, 0, 2, 1]
    derivation = net.derivation(x, y, weight)
    assert "the activation is swish" in str(derivation)
    assert "the loss is half_squared" in str(derivation)
    assert_entry_matches_torch(net, x[None], y[None], "conv1.weight", (1, 0, 2, 1), derivation.total,
                               functions=TORCH_FUNCTIONS)
    source = sc.export(node.output_at((0, 1, 1)), "python")
    namespace = {}
    exec(source, namespace)  # the test runs code symcnn generated, not code read from a file
    assert "swish" in source
    assert namespace["derivative"]([1.5]) == pytest.approx(1.5 / (1 + math.exp(-1.5)), rel=1e-15)


@pytest.mark.parametrize("name, f, error, pattern", [
    ("constant", lambda z: 1.0, TypeError, r"Activation 'constant': f must return a sympy expression of z, got float"),
    ("numpy_array", lambda z: np.array([z]), TypeError, r"must return a sympy expression of z, got ndarray"),
    ("math_exp", lambda z: math.exp(z), TypeError, r"Activation 'math_exp': f\(z\) failed on sympy symbols"),
    ("other_symbol", lambda z: z * sympy.Symbol("beta"), ValueError, r"uses 'beta'; it may use only z"),
    ("flat", lambda z: sympy.Integer(3), ValueError, r"does not depend on z"),
    ("heaviside", lambda z: sympy.Heaviside(z), ValueError, r"Heaviside .* is not among the node types"),
    ("piecewise", lambda z: sympy.Piecewise((z, z > 0), (0, True)), ValueError, r"Piecewise"),
    ("infinite", lambda z: z * sympy.oo, ValueError, r"not among the node types"),
    ("fine_float", lambda z: z * sympy.Float("0.1", 30), ValueError, r"precision other than float64's"),
    ("two_arguments", lambda z, w: z * w, TypeError, r"failed on sympy symbols"),
    (3, lambda z: z, TypeError, r"Activation: name must be a str, got int 3"),
    ("not an identifier", lambda z: z, ValueError, r"name must be an identifier"),
    ("not_callable", "z**2", TypeError, r"f must be a function of z"),
])
def test_bad_activation_definitions_are_refused_clearly(name, f, error, pattern):
    with pytest.raises(error, match=pattern):
        Activation(name, f)


def test_activation_factories_must_be_called_and_numbers_checked():
    with pytest.raises(ValueError, match=r"leaky_relu makes an activation: call it"):
        sc.Conv2D(1, 3, activation=sc.leaky_relu)
    with pytest.raises(ValueError, match=r"wrap a function of z in symcnn.Activation"):
        sc.Dense(1, activation=lambda z: z)
    with pytest.raises(TypeError, match=r"elu: alpha must be a finite real number"):
        sc.elu(float("inf"))
    with pytest.raises(TypeError, match=r"latex must be a non-empty str"):
        Activation("swish", lambda z: z * sc.sigmoid(z), latex=3)


def test_activations_compare_by_definition():
    assert Activation("swish", lambda z: z * sc.sigmoid(z)) == SWISH
    assert sc.leaky_relu(0.2) != sc.leaky_relu() and sc.leaky_relu() == ACTIVATIONS["leaky_relu"]
    assert len({SWISH, Activation("swish", lambda z: sc.sigmoid(z) * z)}) == 1


def test_latex_of_user_math_renders(katex, rng):
    from tests.katex import unwrap_display_math
    net = _user_network()
    node = net.graph.layer_nodes[0]
    x, y = rng.random((2, 6, 6)), rng.normal(size=2)
    derivation = net.derivation(x, y, net.weight_symbols("conv1.weight")[0, 1, 1, 1])
    latex = [sc.display.formula_latex(node.output_at((0, 2, 2))), sc.display.formula_latex(net.graph.loss_expression),
             sympy.latex(sc.leaky_relu(0.2)(Z)), sympy.latex(sc.elu(0.5)(Z)),
             unwrap_display_math(derivation._repr_latex_())]
    assert r"\operatorname{swish}" in latex[0] and r"\operatorname{half\_squared}" in latex[1]
    assert latex[2] == r"\operatorname{LeakyReLU}_{0.2}\left(z\right)"
    katex.assert_renders(latex)


def test_unrolled_evaluator_agrees_for_user_math(rng):
    net = sc.Network((1, 5, 5), [sc.Conv2D(2, 2, activation=SWISH), sc.MaxPool2D(2), sc.Flatten(),
                                 sc.Dense(2, activation="softplus")], loss="huber", seed=3)
    x, y = rng.random((2, 1, 5, 5)), rng.normal(0, 2, (2, 2))
    unrolled, fast = net.unrolled_gradients(x, y), net.gradients(x, y)
    for key in fast:
        np.testing.assert_allclose(unrolled[key], fast[key], rtol=1e-12, atol=1e-15)


def test_a_sympy_function_passed_as_activation_is_pointed_to_its_name():
    with pytest.raises(ValueError, match=r"ReLU is a sympy function: pass the name 'relu'"):
        sc.Conv2D(1, 3, activation=sc.relu)


# -- softmax: the activation that couples its outputs ------------------------------------------------------------

def _explicit_softmax(count):
    z = sympy.symbols(f"z0:{count}", real=True)
    normaliser = sympy.Add(*[sympy.exp(v) for v in z])
    return z, [sympy.exp(v) / normaliser for v in z]


def test_softmax_partials_derived_in_indexed_form_equal_diff_of_the_written_out_softmax(rng):
    count = 4
    z, outputs = _explicit_softmax(count)
    point = dict(zip(z, rng.normal(size=count)))
    values = [float(a.subs(point)) for a in outputs]
    softmax = ACTIVATIONS["softmax"]
    for k in range(count):
        others = sympy.log(sympy.Add(*[sympy.exp(v) for j, v in enumerate(z) if j != k]))
        numbers = {softmax.a[j]: values[j] for j in range(count)}
        numbers.update({softmax.z[j]: point[z[j]] for j in range(count)})
        numbers[softmax.Lbar[k]] = float(others.subs(point))
        for m in range(count):
            at = {softmax.k: k, softmax.m: m}
            for general, explicit in [(softmax.partial_of_output, outputs[k]),
                                      (softmax.partial_of_log_output, sympy.log(outputs[k])),
                                      (softmax.partial_of_log_complement, sympy.log(1 - outputs[k]))]:
                derived = float(general.xreplace(at).doit().xreplace(numbers))
                expected = float(sympy.diff(explicit, z[m]).subs(point))
                assert derived == pytest.approx(expected, rel=1e-12, abs=1e-15), (general, k, m)
    # and instantiated in named outputs: a_k (1 - a_k) on the diagonal, -a_k a_m off it
    a = sympy.symbols("a0:3")
    assert softmax.partial(list(a), 0, 0) == a[0] * (1 - a[0])
    assert softmax.partial(list(a), 0, 2) == -a[0] * a[2]


SOFTMAX_LOGITS = {
    "ordinary": lambda rng: rng.normal(scale=3.0, size=(3, 5)),
    "two classes": lambda rng: rng.normal(size=(4, 2)),
    "one dominant": lambda rng: np.array([[1000.0, -1000.0], [40.0, 0.0], [0.0, 800.0]]),
    "saturated rows": lambda rng: np.array([[1000.0, -1000.0, 0.0, 5.0], [-3.0, -3.0, 900.0, -3.0]]),
    "ties": lambda rng: np.array([[2.0, 2.0, 2.0], [0.0, 0.0, -1e3]]),
}


@pytest.mark.parametrize("case", SOFTMAX_LOGITS)
def test_softmax_numeric_pieces_and_their_vector_jacobian_products_match_pytorch(case, rng):
    softmax = ACTIVATIONS["softmax"]
    z = SOFTMAX_LOGITS[case](rng)
    g = rng.normal(size=z.shape)
    values = softmax.values(z, complement=True)
    a, log_a, log_q = values.a, values.log_a, values.log_q
    for name, ours, function in [
            ("a", softmax.backward_output(g, values), lambda t: torch.softmax(t, dim=1)),
            ("log a", softmax.backward_log_output(g, values), lambda t: torch.log_softmax(t, dim=1)),
            ("log(1 - a)", softmax.backward_log_complement(g, values), torch_log_complement)]:
        expected_vjp, expected_value = torch_vector_jacobian_product(function, z, g)
        value = {"a": a, "log a": log_a, "log(1 - a)": log_q}[name]
        assert np.all(np.isfinite(value)) and np.all(np.isfinite(ours)), name
        assert_arrays_close(value, expected_value, 1e-12, f"{name} values")
        assert_arrays_close(ours, expected_vjp, 1e-12, f"{name} vector-Jacobian product")
