"""Formulas and ledgers as a textbook prints them; every LaTeX string is rendered by KaTeX.

Expected strings are written out by hand from the math (chain-rule order: upstream adjoint,
local partial, input; sums by numeric index; familiar forms of the activation partials).
"""

import re

import numpy as np
import pytest
import sympy

import symcnn as sc
from symcnn import display
from symcnn import inspect as si
from symcnn.differentiate import local_partials, output_errors
from symcnn.functions import Sigmoid
from tests.katex import math_in_html, unwrap_display_math


@pytest.fixture(scope="module")
def conv2_gradient(net_a):
    weight = net_a.weight_symbols("conv2.weight")[0, 0, 2, 1]
    return weight, net_a.gradient_expression(weight)  # 441 terms, one per position of the 21x21 map


def test_a_term_of_a_gradient_is_written_upstream_first(conv2_gradient):
    _, gradient = conv2_gradient
    # dL/dz_p = dL/da_p * sigma'(z_p) = dL/da_p * a_p (1 - a_p); dz_p/dw_{0,0,2,1} = a^(1)_{p + (2, 1)}
    first = (r"\frac{\partial L}{\partial a^{(2)}_{0,0,0}} a^{(2)}_{0,0,0} \left(1 - a^{(2)}_{0,0,0}\right) "
             r"a^{(1)}_{0,2,1}")
    second = (r"\frac{\partial L}{\partial a^{(2)}_{0,0,1}} a^{(2)}_{0,0,1} \left(1 - a^{(2)}_{0,0,1}\right) "
              r"a^{(1)}_{0,2,2}")
    assert display.formula_latex(gradient, terms=None, width=None).startswith(f"{first} + {second} + ")
    text = display.formula_text(gradient, one_line=True, terms=2)
    assert text == ("∂L/∂a⁽²⁾[0,0,0]*a⁽²⁾[0,0,0]*(1 - a⁽²⁾[0,0,0])*a⁽¹⁾[0,2,1] + … "
                    "+ ∂L/∂a⁽²⁾[0,20,20]*a⁽²⁾[0,20,20]*(1 - a⁽²⁾[0,20,20])*a⁽¹⁾[0,22,21] [441 terms]")


def test_sums_are_ordered_by_numeric_index(conv2_gradient):
    _, gradient = conv2_gradient
    text = display.formula_text(gradient, one_line=True, terms=None)
    positions = [tuple(map(int, p)) for p in re.findall(r"∂L/∂a⁽²⁾\[(\d+),(\d+),(\d+)\]", text)]
    assert positions == [(0, i, j) for i in range(21) for j in range(21)]  # (0,10,3) before (0,10,10)
    assert "[441 terms]" not in text and "…" not in text


def test_a_long_sum_shows_its_first_terms_dots_last_term_and_count(net_a, katex):
    z = net_a.graph.layer_nodes[1].weighted_sum_at((0, 10, 3))  # z = sum_{u,v} w_{0,0,u,v} a^(1)_{0,10+u,3+v}
    short = display.formula_latex(z, terms=4)
    assert short == (r"\underbrace{w^{(2)}_{0,0,0,0} a^{(1)}_{0,10,3} + w^{(2)}_{0,0,0,1} a^{(1)}_{0,10,4} + "
                     r"w^{(2)}_{0,0,0,2} a^{(1)}_{0,10,5} + \cdots + w^{(2)}_{0,0,4,4} a^{(1)}_{0,14,7}}"
                     r"_{25 \text{ terms}}")
    every = display.formula_latex(z, terms=None, width=None)
    assert every.count("w^{(2)}") == 25 and r"\cdots" not in every
    assert display.formula_text(z, terms=3, width=None) == (
        "w⁽²⁾[0,0,0,0]⋅a⁽¹⁾[0,10,3] + w⁽²⁾[0,0,0,1]⋅a⁽¹⁾[0,10,4] + ⋯ + w⁽²⁾[0,0,4,4]⋅a⁽¹⁾[0,14,7] [25 terms]")
    katex.assert_renders([short, every])


def test_a_formula_too_wide_is_broken_over_aligned_lines(net_a, conv2_gradient, katex):
    weight, gradient = conv2_gradient
    left = (net_a.graph.loss_symbol, weight)
    aligned = display.formula_latex(gradient, left=left)
    assert aligned.startswith(r"\begin{aligned} \frac{\partial L}{\partial w^{(2)}_{0,0,2,1}} &= ")
    assert aligned.endswith(r"\qquad \text{(441 terms)} \end{aligned}")
    rows = aligned.removeprefix(r"\begin{aligned} ").removesuffix(r" \end{aligned}").split(r" \\ ")
    assert len(rows) >= 2 and all(row.startswith(r"&\quad + ") for row in rows[1:])
    assert all(display.rendered_width(row) <= display.formulas.DEFAULT_WIDTH + 40 for row in rows)
    one_line = display.formula_latex(gradient, left=left, width=None)
    assert "aligned" not in one_line and one_line.startswith(r"\frac{\partial L}{\partial w^{(2)}_{0,0,2,1}} = ")
    text = display.formula_text(gradient, left=left).splitlines()
    assert text[0] == "∂L/∂w⁽²⁾[0,0,2,1] = ∂L/∂a⁽²⁾[0,0,0]⋅a⁽²⁾[0,0,0]⋅(1 - a⁽²⁾[0,0,0])⋅a⁽¹⁾[0,2,1]"
    assert all(len(line) <= 80 or line.count("∂L/∂a") == 1 for line in text)  # only a lone term overflows
    assert text[-1].endswith("[441 terms]") and len(text[-1]) <= 80
    katex.assert_renders([aligned, one_line, display.equations_latex([(left, gradient), (weight, 2 * weight)])])


def test_activation_partials_in_their_familiar_forms(net_c, katex):
    small = sc.Network((1, 2, 2), [sc.Conv2D(1, 2, activation="tanh"), sc.Conv2D(1, 1, activation="relu"),
                                   sc.Flatten(), sc.Dense(1, activation="sigmoid")], "bce")
    tanh, relu, sigmoid = small.graph.layer_nodes[0], small.graph.layer_nodes[1], small.graph.layer_nodes[-1]

    def partial(node, position):
        (expression,) = local_partials(node, position)["output"].values()
        return display.formula_latex(expression)

    assert partial(tanh, (0, 0, 0)) == r"1 - \left(a^{(1)}_{0,0,0}\right)^{2}"
    assert partial(relu, (0, 0, 0)) == r"\mathbf{1}\left[z^{(2)}_{0,0,0} > 0\right]"
    assert partial(sigmoid, (0,)) == r"a^{(3)}_{0} \left(1 - a^{(3)}_{0}\right)"
    dense = net_c.graph.layer_nodes[-1]
    a, z = dense.outputs, dense.pre_activations
    softmax = local_partials(dense, (0,))["output"]  # d a_k / d z_m = a_k (delta_km - a_m)
    shown = [display.formula_latex(softmax[z[m]], left=(a[0], z[m])) for m in (0, 1)]
    assert shown == [r"\frac{\partial a^{(3)}_{0}}{\partial z^{(3)}_{0}} = a^{(3)}_{0} \left(1 - a^{(3)}_{0}\right)",
                     r"\frac{\partial a^{(3)}_{0}}{\partial z^{(3)}_{1}} = - a^{(3)}_{0} a^{(3)}_{1}"]
    assert display.formula_text(softmax[z[1]], one_line=True) == "-a⁽³⁾[0]*a⁽³⁾[1]"
    error = output_errors(net_c.graph)[z[4]]  # softmax + cross-entropy: dL/dz = p - t
    assert display.formula_latex(error, left=(net_c.graph.loss_symbol, z[4])) == (
        r"\frac{\partial L}{\partial z^{(3)}_{4}} = a^{(3)}_{4} - y_{4}")
    katex.assert_renders(shown + [partial(tanh, (0, 0, 0)), partial(relu, (0, 0, 0)), display.formula_latex(error)])


def test_one_latex_convention_bare_math_and_displaystyle_in_jupyter(net_a, net_c, photo, katex):
    """*_latex functions return bare math; every _repr_latex_ is $\\displaystyle ...$ of it."""
    ledger = net_a.ledger(photo, 1.0, net_a.weight_symbols("conv1.weight")[0, 0, 1, 1])
    conv = net_c.graph.layer_nodes[0]
    forms = [si.rolled_form(net_c, conv.pre_activations[1, 2, 3]),
             si.rolled_form(net_c, conv.outputs[1, 2, 3], conv.pre_activations[1, 2, 3]),
             si.rolled_form(net_c, net_c.graph.loss_symbol, conv.weights[1, 0, 2, 2]),
             si.rolled_form(net_c, net_c.graph.loss_symbol, net_c.weight_symbols("dense3.weight")[2, 7])]
    formula = display.show(ledger.expression, left=(net_a.graph.loss_symbol, ledger.weight))
    bare = [display.ledger_latex(ledger), formula.latex()] + [display.rolled_latex(form) for form in forms]
    assert not any("$" in latex for latex in bare)
    shown = [ledger._repr_latex_(), formula._repr_latex_()] + [form._repr_latex_() for form in forms]
    assert [unwrap_display_math(repr_latex) for repr_latex in shown] == bare
    katex.assert_renders(bare)


def test_labels_render_as_intended(net_c, katex):
    dense = net_c.graph.layer_nodes[-1]
    label = display.derivative_latex(dense.outputs[0], dense.pre_activations[1])
    assert label == r"\frac{\partial a^{(3)}_{0}}{\partial z^{(3)}_{1}}"
    assert display.derivative_text(dense.outputs[0], dense.pre_activations[1]) == "∂a⁽³⁾[0]/∂z⁽³⁾[1]"
    katex.assert_renders([label])


def test_the_r_names_on_request(net_a):
    node = net_a.graph.layer_nodes[0]
    expression = node.outputs[0, 0, 1] * net_a.graph.input_symbols[0, 0, 4]  # the activation, then the input
    assert display.formula_latex(expression, net_a, naming="r") == r"\mathtt{interm\_l1\_2} \mathtt{inp\_5}"
    assert display.formula_text(expression, net_a, naming="r", one_line=True) == "interm_l1_2*inp_5"
    r_net = sc.presets.network_a(naming="r")
    r_expression = r_net.graph.layer_nodes[0].outputs[0, 0, 1]
    assert display.formula_latex(r_expression) == r"\mathtt{interm\_l1\_2}"
    assert display.formula_latex(r_expression, r_net, naming="symcnn") == "a^{(1)}_{0,0,1}"
    with pytest.raises(ValueError, match="needs the network"):
        display.formula_latex(expression, naming="r")


def test_terms_must_be_none_or_at_least_two(net_a):
    x = net_a.graph.input_symbols[0, 0, 0]
    with pytest.raises(ValueError, match=r"terms \(None: every term\) must be >= 2, got 1"):
        display.formula_latex(x + 1, terms=1)
    with pytest.raises(TypeError, match="terms"):
        display.show(x, terms="all")
    with pytest.raises(ValueError, match="width must be None"):
        display.formula_text(x, width=0)


@pytest.mark.parametrize("which", ["a", "c"])
def test_ledgers_render_as_text_latex_and_html(which, net_a, net_c, photo, digit, katex):
    net, x, y = (net_a, photo, 1.0) if which == "a" else (net_c, *digit)
    key = "conv2.weight" if which == "a" else "dense3.weight"
    ledger = net.ledger(x, y, net.weight_symbols(key)[0, 0, 1, 1] if which == "a" else net.weight_symbols(key)[y, 200])
    text = str(ledger)
    assert text.startswith("Chain-rule ledger of ∂L/∂") and f"{ledger.total:.10g}" in text
    assert "… 431 more" in text if which == "a" else "total" in text
    latex = display.ledger_latex(ledger)
    assert latex.startswith(r"\begin{array}{l} \displaystyle \frac{\partial L}{\partial w^{(")
    assert latex.count(r"\begin{array}") == 3
    page = ledger._repr_html_()
    assert page.count("<table>") == 2
    katex.assert_renders([latex] + math_in_html(page))


def test_rolled_forms_render(net_c):
    conv = net_c.graph.layer_nodes[0]
    form = si.rolled_form(net_c, conv.pre_activations[1, 2, 3])
    # z_{f,i,j} = sum_{c,u,v} w_{f,c,u,v} x_{c,i+u-1,j+v-1} + b_f (padding 1), entries written as the scalars are
    assert r"x_{c,i + u - 1,j + v - 1} + b^{(1)}_{f}" in form._repr_latex_()
    text = str(si.rolled_form(net_c, net_c.graph.loss_symbol, conv.weights[1, 0, 2, 2]))
    assert "∂L/∂w⁽¹⁾[f, c, u, v]" in text and "∂L/∂w⁽¹⁾[1, 0, 2, 2]" in text


def test_cost_tables_render(net_a):
    table = display.costs_text(si.growth_table(net_a))
    assert table.splitlines()[0].startswith("| layer | layer_by_layer_ops | nested_ops |")
    assert "| loss |" in table and "11,070,008" in table


def test_every_formula_of_the_networks_renders(net_a, net_c, katex):
    """Definitions, partials and gradients of every layer kind, shortened and in full."""
    strings = []
    for net in (net_a, net_c):
        for node in net.graph.layer_nodes:
            position = tuple(0 for _ in node.output_shape)
            strings.append(display.formula_latex(node.output_at(position), left=node.outputs[position]))
            for stage in local_partials(node, position).values():
                strings += [display.formula_latex(p, left=(node.outputs[position], s)) for s, p in
                            list(stage.items())[:3]]
            if node.weights is not None:
                weight = node.weights[(0,) * node.weights.ndim]
                strings.append(display.formula_latex(net.gradient_expression(weight), terms=3))
    strings.append(display.formula_latex(sympy.Rational(1, 4) * Sigmoid(net_a.graph.input_symbols[0, 0, 0]) - 2))
    katex.assert_renders(strings)


def test_every_rolled_form_renders(net_c, katex):
    """The Sigma forms of every layer kind of network C: definitions, local partials, gradients."""
    strings = []
    for node in net_c.graph.layer_nodes:
        position = tuple(0 for _ in node.output_shape)
        a = node.outputs[position]
        forms = [si.rolled_form(net_c, a)]
        if node.pre_activations is not None:
            z = node.pre_activations[position]
            forms += [si.rolled_form(net_c, z), si.rolled_form(net_c, a, z),
                      si.rolled_form(net_c, z, node.weights[(0,) * node.weights.ndim])]
        else:  # a pooling window: d a / d (its first entry)
            forms.append(si.rolled_form(net_c, a, node.inputs[0, 0, 0]))
        strings += [display.rolled_latex(form) for form in forms]
        assert all(str(form) for form in forms)  # the text form prints too
    katex.assert_renders(strings)


def test_a_power_of_a_rolled_array_entry_renders(katex):
    # gelu's derivative holds z^3: in a rolled form that is (z^{(1)}_{f,i,j})^{3}, not a double superscript
    import symcnn as sc
    from symcnn.inspect import rolled_form
    net = sc.Network((1, 4, 4), [sc.Conv2D(1, 2, activation="gelu"), sc.Flatten(), sc.Dense(1)], loss="mse")
    node = net.graph.layer_nodes[0]
    latex = sc.display.rolled_latex(rolled_form(net, node.outputs[0, 1, 1], node.pre_activations[0, 1, 1]))
    assert r"\left(z^{(1)}_{f,i,j}\right)^{3}" in latex or r"\left(z^{(1)}_{f,i,j}\right)^{2}" in latex
    katex.assert_renders([latex])
