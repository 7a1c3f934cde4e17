"""plan.py, elementwise.py and rewrites.py: the step plan reuses its buffers, the rewritten plan equals
the plain one, the guarded flat update refuses without touching the parameters, and the
compiled elementwise programs equal their sympy expressions."""

import numpy as np
import pytest
import sympy

import symcnn as sc
from symcnn.elementwise import ElementwiseProgram
from symcnn.evaluate import CompiledNetwork, compile_expressions
from symcnn.functions import ReLU, Sigmoid, Step
from symcnn.plan import ParameterLayout
from symcnn.differentiate import derive_template
from symcnn.rewrites import presummed_axes

pytest.importorskip("torch")
from tests.reference import assert_matches_torch, max_relative_error  # noqa: E402  (needs torch)

RNG = np.random.default_rng(7)

SHARED = ((3, 9, 9), [sc.Conv2D(4, 3, activation="relu", bias=False), sc.Conv2D(3, 3, shared_channels=True,
                                                                             padding=1, activation="tanh"),
                      sc.Conv2D(2, 2, stride=2, shared_channels=True, activation="sigmoid"), sc.Flatten(),
                      sc.Dense(2, activation="softmax")], "bce")


def _shared_network(seed=1):
    input_shape, layers, loss = SHARED
    return sc.Network(input_shape, [sc.layers.layer_from_config(type(layer).__name__, layer.config())
                                    for layer in layers], loss=loss, seed=seed)


def test_the_channel_shared_factoring_is_read_off_the_derived_template():
    """sympy's d zeta / d omega[u, v] of a kernel shared over c is sum_c xi[c, u, v]: the channels are summed first."""
    net = _shared_network()
    templates = [derive_template(node.template) for node in net.graph.layer_nodes]
    assert [presummed_axes(template) for template in templates] == [(), (0,), (0,), ()]
    shared = templates[1]
    by_weight = shared.partials["weighted_sum"].generic[shared.generic_kernel_entry]
    u, v = shared.generic_index[1:]
    assert by_weight == sum(sc.layers.PATCH[c, u, v] for c in range(4))  # conv1's 4 filters are conv2's channels
    stages = net.compiled.plan(2).stages
    assert [getattr(stage, "factored", None) for stage in stages[:3]] == [False, True, True]


@pytest.mark.parametrize("count", [1, 3])
def test_the_rewritten_plan_equals_the_plain_plan_and_pytorch(count):
    net = _shared_network()
    x = RNG.normal(size=(count, *SHARED[0]))
    targets = np.eye(2)[RNG.integers(0, 2, count)]
    params = net.params
    plain = CompiledNetwork(net.graph, rewrites=False)
    rewritten = CompiledNetwork(net.graph, rewrites=True)
    plain_loss, plain_gradients = plain.loss_and_gradients(x, targets, params)
    loss, gradients = rewritten.loss_and_gradients(x, targets, params)
    assert loss == pytest.approx(plain_loss, rel=1e-12)
    assert max_relative_error(gradients, plain_gradients) <= 1e-12
    assert_matches_torch(net, x, targets, forward_rtol=1e-12, gradient_rtol=1e-9)


def test_buffers_are_made_once_per_batch_size_and_reused():
    net = sc.presets.network_c()
    x, y = RNG.random((4, 1, 28, 28)), RNG.integers(0, 10, 4)
    net.step(x, y, lr=0.01)
    plan = net.compiled.plan(4)
    buffers = [(stage.z, getattr(stage.activation, "a", None)) for stage in plan.stages if hasattr(stage, "z")]
    gradient = net.compiled.flat_gradient
    for _ in range(3):
        net.step(x, y, lr=0.01)
    assert net.compiled.plan(4) is plan
    assert all(stage.z is z and getattr(stage.activation, "a", None) is a
               for stage, (z, a) in zip([s for s in plan.stages if hasattr(s, "z")], buffers))
    assert net.compiled.flat_gradient is gradient
    net.step(x[:3], y[:3], lr=0.01)  # another batch size: another plan, with buffers of its size
    other = net.compiled.plan(3)
    assert other is not plan and other.stages[0].z.shape[0] == 3
    assert net.compiled.plan(4) is plan  # kept: the two sizes of a training epoch alternate
    assert_matches_torch(net, x[:3], y[:3], forward_rtol=1e-12, gradient_rtol=1e-9)


def test_gradients_and_params_are_copies_that_no_later_step_or_user_changes():
    net = sc.presets.network_a()
    x = RNG.random((1, 27, 27))
    gradients, params = net.gradients(x, 1.0), net.params
    kept = {key: value.copy() for key, value in gradients.items()}
    net.step(x, 1.0, lr=0.5)
    assert all(np.array_equal(gradients[key], kept[key]) for key in kept)
    params["conv1.weight"][...] = 1e300  # a user changing the returned copy changes nothing
    assert np.abs(net.params["conv1.weight"]).max() < 10


def test_a_refused_step_leaves_every_parameter_bit_identical():
    net = sc.Network((1, 4, 4), [sc.Conv2D(2, 3), sc.Flatten(), sc.Dense(1)], loss="mse")
    x = np.full((2, 1, 4, 4), 1e100)
    net.step(x[:, :, :, :] * 1e-100, [0.5, 0.5], lr=0.1)  # a plan and a spare buffer exist
    before = {key: value.tobytes() for key, value in net.params.items()}
    with pytest.raises(FloatingPointError, match="the parameters are unchanged"):
        net.step(x, [0.0, 0.0], lr=0.1)
    assert {key: value.tobytes() for key, value in net.params.items()} == before
    assert np.isfinite(net.loss(x * 1e-100, [0.5, 0.5]))


def test_the_parameter_layout_places_every_array_once():
    layout = ParameterLayout({"a": (2, 3), "b": (4,), "c": (1, 1, 2, 2)})
    flat = np.arange(float(layout.size))
    views = layout.views(flat)
    assert layout.size == 14 and np.shares_memory(views["b"], flat)
    np.testing.assert_array_equal(np.concatenate([v.ravel() for v in views.values()]), flat)
    np.testing.assert_array_equal(layout.squared_norms(flat, np.empty(14)),
                                  [np.sum(v ** 2) for v in views.values()])


Z, A, U = sympy.symbols("z a u")
PROGRAMS = [Sigmoid(Z), U * A * (1 - A), ReLU(Z), U * Step(Z), U * (1 - A ** 2), sympy.exp(-Z) / (1 + Z ** 2),
            0.2 * Z + 0.8 * ReLU(Z), sympy.log(1 + sympy.exp(Z)), sympy.sqrt(1 + Z ** 2) - Z, sympy.Max(Z, 2 * A),
            Step(Z), -Step(Z) * U, Step(Z) + Step(A - 0.5), Step(Z) * Step(A - 0.5), sympy.exp(Step(Z)), 1 - Step(Z)]


@pytest.mark.parametrize("expression", PROGRAMS, ids=str)
def test_elementwise_programs_equal_their_lambdified_expressions(expression):
    z = np.concatenate([RNG.normal(scale=3, size=20), [0.0, -40.0, 40.0, -700.0, 700.0]])
    a, u = 1 / (1 + np.exp(-np.clip(z, -50, 50))), RNG.normal(size=z.size)
    program = ElementwiseProgram(expression, [Z, A, U])
    assert program.fallback is None
    with np.errstate(over="ignore", under="ignore"):
        expected = np.broadcast_to(compile_expressions([Z, A, U], expression)(z, a, u), z.shape)
        out = np.empty_like(z)
        program(out, z, a, u)
        again = program(np.empty_like(z), z, a, u)  # the temporaries are reused
    np.testing.assert_allclose(out, expected, rtol=1e-14, atol=1e-300)
    np.testing.assert_array_equal(out, again)


def test_an_expression_the_compiler_does_not_know_runs_through_its_fallback():
    expression = sympy.Heaviside(Z, 0) * Z ** 3
    program = ElementwiseProgram(expression, [Z], fallback=lambda: compile_expressions([Z], expression))
    z = np.linspace(-2, 2, 5)
    assert program.fallback is not None and program.calls == 1
    np.testing.assert_allclose(program(np.empty(5), z), np.heaviside(z, 0) * z ** 3, rtol=1e-14)
    with pytest.raises(Exception):
        ElementwiseProgram(expression, [Z])


def test_a_plan_too_large_to_keep_serves_its_call_only_and_a_forward_pass_makes_no_backward_buffers():
    net = sc.presets.network_d()
    x = RNG.random((5, 1, 27, 27))
    compiled = net.compiled
    compiled.kept_plan_bytes = 0  # every plan is "too large"
    outputs = net.predict(x)
    assert 5 not in compiled.kept_batch_sizes
    del compiled.kept_plan_bytes  # the class's limit again
    np.testing.assert_allclose(net.predict(x), outputs, rtol=1e-15)
    plan = compiled.plan(5)
    assert all(getattr(stage, "dx", None) is None for stage in plan.stages if hasattr(stage, "transposed_pass"))
    net.gradients(x, np.eye(2)[[0, 1, 0, 1, 1]])
    assert all(stage.transposed_pass is not None for stage in plan.stages[1:3])


@pytest.mark.parametrize("channels, kernel, stride, padding, shared", [
    (1, 3, 1, 0, False), (1, (3, 2), 1, (2, 1), False), (1, 2, 2, 1, False), (3, 3, 1, 1, False), (2, 3, 2, 0, False),
    (3, 2, 1, 1, True), (3, 3, 1, 2, True)])
@pytest.mark.parametrize("transposed_pass", ["bincount", "gather"])
def test_both_transposed_passes_are_the_adjoint_of_the_forward_pass(channels, kernel, stride, padding, shared,
                                                                    transposed_pass):
    """<conv(x), y> = <x, conv^T(y)> for each pass (strided or indexed im2col; a shared kernel factored)."""
    net = sc.Network((1, 7, 6), [sc.Conv2D(channels, 1), sc.Conv2D(3, kernel, stride=stride, padding=padding,
                                                                  bias=False, shared_channels=shared)],
                     loss="mse", seed=2)
    stage = net.compiled.layers[1].new_stage(2)
    x = RNG.normal(size=(2, 7, 6, channels))
    z, cache = stage.forward(x, net.params)
    z = z.copy()
    y = RNG.normal(size=z.shape)
    stage.prepare_transposed_pass(transposed_pass)
    dx = stage.backward(y, cache, net.params, {})
    assert float(np.sum(z * y)) == pytest.approx(float(np.sum(x * dx)), rel=1e-12)
