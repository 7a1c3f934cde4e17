"""The derivation of one weight's gradient (symcnn.derivation, symcnn.display.derivations): it ends in
net.gradients' number, every step's shown factors give its value, steps chain into each other."""

import math
import re

import numpy as np
import pytest

import symcnn as sc
from symcnn.inspect import scalar_roles
from symcnn.naming import adjoint_symbol
from tests.shared import network_c_off_the_kinks
from tests.katex import math_in_html, unwrap_display_math
from tests.reference import assert_entry_matches_torch, assert_matches_input_finite_differences

EXACT = 1e-12


@pytest.fixture(scope="module")
def net_a():
    return sc.presets.network_a(seed=3)


@pytest.fixture(scope="module")
def net_c():
    return network_c_off_the_kinks()


@pytest.fixture(scope="module")
def digit(noisy_digit):
    return noisy_digit


CASES = [("a", "conv2.weight", (0, 0, 2, 2)), ("a", "conv3.weight", (0, 0, 3, 3)), ("a", "dense4.weight", (0, 88)),
         ("a", "conv1.weight", (0, 0, 1, 1)), ("c", "dense3.weight", (7, 397)), ("c", "conv1.weight", (2, 0, 1, 1)),
         ("c", "conv1.bias", (2,)), ("c", "dense3.bias", (7,))]


@pytest.fixture(params=CASES, ids=[f"{n}-{k}{list(i)}" for n, k, i in CASES])
def case(request, net_a, net_c, photo, digit):
    """(net, x, y, key, index, derivation): network A on the photo, network C on a digit."""
    which, key, index = request.param
    net, x, y = (net_a, photo, 1.0) if which == "a" else (net_c, *digit)
    return net, x, y, key, index, net.derivation(x, y, net.weight_symbols(key)[index])


def relatively_close(actual, expected, rtol=EXACT, floor=1e-15):
    return abs(actual - expected) <= rtol * abs(expected) + floor


def test_the_derivation_ends_in_the_gradient(case):
    net, x, y, key, index, derivation = case
    expected = net.gradients(x, y)[key][index]
    assert derivation.key == key and derivation.index == index
    assert relatively_close(derivation.total, expected), (derivation.total, expected)
    assert derivation.steps[-1].value == derivation.total


def test_the_total_equals_pytorch(case):
    net, x, y, key, index, derivation = case
    assert_entry_matches_torch(net, x, y, key, index, derivation.total, rtol=1e-10)


def test_steps_go_from_the_loss_down_as_bp1_bp2_bp4(case):
    net, _, _, key, _, derivation = case
    rules = [step.rule for step in derivation.steps]
    assert rules[0] == "BP1" and set(rules[1:-1]) <= {"BP2"}
    assert rules[-1] == ("BP3" if key.endswith("bias") else "BP4")
    layers = [step.layer for step in derivation.steps]
    assert layers[0] == net.graph.nodes[-1].name and layers[-1] == key.split(".")[0]


def test_every_step_is_the_sum_of_its_shown_products(case):
    """The factors shown at a step's position multiply and add up to the value the fast path computed."""
    *_, derivation = case
    for step in derivation.steps:
        shown = math.fsum(step.term_values)
        assert relatively_close(shown, step.value, rtol=1e-11, floor=1e-14), (step.name, shown, step.value)


def test_each_step_reads_the_values_the_step_before_computed(case):
    """An upstream factor dL/d(s) of a step has the value the step above gave s (and each step's value
    is its own layer's entry); so the steps chain from the loss to the weight."""
    net, *_, derivation = case
    roles = scalar_roles(net.graph, net.inspection_cache)
    for above, step in zip(derivation.steps, derivation.steps[1:]):
        for term in step.terms:
            upstream = term[0]
            assert upstream.of == net.graph.loss_symbol and upstream.formula == adjoint_symbol(upstream.wrt)
            role = roles[upstream.wrt]
            if role.node == roles[above.wrt].node and role.kind == roles[above.wrt].kind:
                assert upstream.value == above.values[role.index]
    for step in derivation.steps[:-1]:
        assert step.value == step.values[step.position]


def test_the_output_error_has_its_textbook_closed_form(net_a, net_c, photo, digit):
    """sigmoid with binary cross-entropy: a - y; softmax with cross-entropy: p - t; and the closed
    form's value is the step's."""
    for net, x, y, weight in [(net_a, photo, 1.0, "dense4.weight"), (net_c, *digit, "dense3.weight")]:
        step = net.derivation(x, y, net.weight_symbols(weight)[0, 0]).steps[0]
        node = net.graph.nodes[-1]
        k = step.position
        assert step.closed_form == node.outputs[k] - net.graph.target_symbols[k]
        assert relatively_close(net.evaluate(step.closed_form, x, y), step.value, rtol=1e-10)


@pytest.mark.parametrize("preset, key", [("b", "conv1.weight"), ("d", "conv2.weight")])
def test_networks_b_and_d(preset, key, rng):
    """B (no activations, stride 2) and D (channel-shared kernels, softmax with bce) end in the gradient too."""
    net = sc.presets.get(preset)
    x = rng.random(net.input_shape)
    y = 4 if preset == "b" else [0.0, 1.0]
    index = (1,) + (0,) * (len(net.params[key].shape) - 2) + (2,)
    derivation = net.derivation(x, y, net.weight_symbols(key)[index])
    assert relatively_close(derivation.total, net.gradients(x, y)[key][index])
    for step in derivation.steps:
        assert relatively_close(math.fsum(step.term_values), step.value, rtol=1e-11, floor=1e-14)
    # sums print as sums (D's shared kernel reads the channel sum), never as sympy's Sum(...)
    assert "Sum(" not in str(derivation)
    if preset == "d":
        assert "Σ_c=0..4 a⁽¹⁾[c, i + u, j + v]" in str(derivation)


def test_the_text_shows_every_step_and_the_total(case):
    net, x, y, key, index, derivation = case
    text = str(derivation)
    for number, step in enumerate(derivation.steps, 1):
        assert f"{number}. {step.name} ({step.rule})" in text
    last = text.splitlines()[-1]
    assert last.endswith(f"net.gradients(x, y)[{key!r}][{','.join(map(str, index))}]")
    assert np.isclose(float(last.split(" = ")[1]), net.gradients(x, y)[key][index], rtol=1e-9)


def test_long_sums_are_shortened_unless_asked(net_a, photo):
    derivation = net_a.derivation(photo, 1.0, net_a.weight_symbols("conv2.weight")[0, 0, 2, 2])
    short, full = sc.display.derivation_text(derivation), sc.display.derivation_text(derivation, terms=None)
    assert "[441 terms]" in short and "…" in short
    assert "…" not in full and full.count("∂L/∂z⁽²⁾[0,20,20]") >= 1
    assert len(full) > 10 * len(short)


def test_latex_is_one_aligned_block_per_step(case):
    *_, derivation = case
    latex = sc.display.derivation_latex(derivation)
    assert isinstance(latex, str) and "$" not in latex
    assert latex.count(r"\begin{aligned}") == latex.count(r"\end{aligned}") == len(derivation.steps)
    assert unwrap_display_math(derivation._repr_latex_()) == latex


def test_the_derivation_renders_in_katex(case, katex):
    """The LaTeX of every case (conv and dense weights, biases of network A and C), shortened and in full,
    its Jupyter form, its steps' rolled forms and its ledger (LaTeX and HTML) are rendered by KaTeX."""
    *_, derivation = case
    short, full = sc.display.derivation_latex(derivation), sc.display.derivation_latex(derivation, terms=None)
    rolled = [unwrap_display_math(form._repr_latex_()) for step in derivation.steps for form in step.where]
    ledger = derivation.ledger
    katex.assert_renders([short, full, unwrap_display_math(derivation._repr_latex_()),
                          unwrap_display_math(ledger._repr_latex_())] + rolled + math_in_html(ledger._repr_html_()))


@pytest.mark.parametrize("preset, key", [("b", "conv1.weight"), ("b", "dense3.bias"), ("d", "conv2.weight"),
                                         ("d", "dense4.weight")])
def test_the_derivations_of_networks_b_and_d_render(preset, key, rng, katex):
    net = sc.presets.get(preset)
    x, y = rng.random(net.input_shape), 4 if preset == "b" else [0.0, 1.0]
    derivation = net.derivation(x, y, net.weight_symbols(key)[(0,) * net.params[key].ndim])
    katex.assert_renders([sc.display.derivation_latex(derivation), sc.display.derivation_latex(derivation, terms=2),
                          sc.display.derivation_latex(derivation, terms=None, width=None)])


def test_formulas_are_written_as_a_textbook_does(net_a, net_c, photo, digit):
    """The rolled local partials read a(1 - a) and p_m(delta_km - p_k), upstream factor first; labels are
    fractions of partials; a long sum is broken over lines and shows its count."""
    latex = sc.display.derivation_latex(net_a.derivation(photo, 1.0, net_a.weight_symbols("conv2.weight")[0, 0, 2, 2]))
    sigmoid = r"\frac{\partial a^{(2)}_{f,i,j}}{\partial z^{(2)}_{f,i,j}} = a^{(2)}_{f,i,j} \left(1 - a^{(2)}_{f,i,j}\right)"
    assert sigmoid in latex
    assert not re.search(r"\\left\(1 - (a\^\{\(\d\)\}_\{[^}]*\})\\right\) \1", latex)  # never (1 - a) a
    assert r"\text{(441 terms)}" in latex and r"&\quad + " in latex
    text = str(net_c.derivation(*digit, net_c.weight_symbols("dense3.weight")[7, 397]))
    assert "∂a⁽³⁾[m]/∂z⁽³⁾[k] = a⁽³⁾[m]⋅(δ[k, m] - a⁽³⁾[k])" in text
    assert "= a⁽³⁾[7] - y[7]" in text


def test_a_derivation_explains_one_weight_of_one_image(net_a, photo):
    with pytest.raises(ValueError, match="is not a weight or bias"):
        net_a.derivation(photo, 1.0, net_a.graph.loss_symbol)
    with pytest.raises(ValueError, match="one sample"):
        net_a.derivation(np.stack([photo, photo]), [1.0, 1.0], net_a.weight_symbols("conv1.weight")[0, 0, 0, 0])
    with pytest.raises(ValueError, match="x must have shape"):
        net_a.derivation(photo[:, :5], 1.0, net_a.weight_symbols("conv1.weight")[0, 0, 0, 0])


def tail_network(net, node_index, read_pre_activation):
    """The layers of ``net`` after node ``node_index`` as a network of their own, reading that layer's
    output a (or, ``read_pre_activation``, its z through a 1x1 identity convolution that applies the
    layer's activation), with ``net``'s parameter values: its input gradient is dL/da (dL/dz)."""
    node = net.graph.nodes[node_index]
    layers = list(net.layers[node_index + 1:])
    if read_pre_activation:
        layers.insert(0, sc.Conv2D(node.output_shape[0], 1, bias=False, activation=node.layer.activation))
    tail = sc.Network(node.output_shape, layers, loss=net.loss_name)
    later = [value for key, value in net.params.items()
             if int("".join(filter(str.isdigit, key.split(".")[0]))) > node.number]
    identity = [np.eye(node.output_shape[0])[:, :, None, None]] if read_pre_activation else []
    tail.set_params(dict(zip(tail.params, identity + later)))
    return tail


def test_the_errors_passed_back_equal_finite_differences(net_a, photo):
    """Every dL/da and dL/dz a derivation of network A shows (each whole layer) equals central finite
    differences of the loss of the network's remaining layers, fed that layer's a or z."""
    derivation = net_a.derivation(photo, 1.0, net_a.weight_symbols("conv2.weight")[0, 0, 2, 2])
    trace = derivation.ledger.trace
    checked = 0
    for step in derivation.steps[1:-1]:
        role = scalar_roles(net_a.graph, net_a.inspection_cache)[step.wrt]
        reads_z = role.kind == "pre_activation"
        tail = tail_network(net_a, role.node, reads_z)
        values = trace.maps["pre_activation" if reads_z else "activation", role.node][0]
        assert_matches_input_finite_differences(lambda v: tail.loss(v, 1.0), values, step.values, rtol=1e-6)
        checked += 1
    assert checked == 4  # dL/da and dL/dz of conv3 and of conv2
