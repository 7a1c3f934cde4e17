"""What symcnn shows as text and math: readable math in both naming schemes, ledgers, rolled forms, cost tables.

Pictures are tested in test_display_plots.py."""

import numpy as np
import pytest

import symcnn as sc
from symcnn import display
from symcnn import inspect as si

@pytest.fixture(scope="module")
def net_a():
    return sc.presets.network_a()


@pytest.fixture(scope="module")
def net_c():
    return sc.presets.network_c()


@pytest.fixture(scope="module")
def digit(mnist):
    images, labels = mnist()
    return images[2], int(labels[2])


def test_a_gradient_of_network_a_renders_as_indexed_latex_and_text(net_a):
    expression = net_a.gradient_expression(net_a.weight_symbols("conv1.weight")[0, 0, 1, 1])  # 625 terms
    latex = display.formula_latex(expression)
    assert r"\frac{\partial L}{\partial a^{(1)}_{0,0,0}} x_{0,1,1}" in latex
    assert "__" not in latex and "g___" not in latex
    text = display.formula_text(expression)
    assert "∂L/∂a⁽¹⁾[0,0,0]" in text and "x[0,1,1]" in text and "__" not in text
    assert display.show(expression)._repr_latex_().startswith(r"$\displaystyle ")


def test_the_r_names_on_request(net_a):
    node = net_a.graph.layer_nodes[0]
    expression = node.outputs[0, 0, 1] * net_a.graph.input_symbols[0, 0, 4]
    assert display.formula_latex(expression, net_a, naming="r") == r"\mathtt{inp\_5} \mathtt{interm\_l1\_2}"
    assert display.formula_text(expression, net_a, naming="r", one_line=True) == "inp_5*interm_l1_2"
    r_net = sc.presets.network_a(naming="r")
    r_expression = r_net.graph.layer_nodes[0].outputs[0, 0, 1]
    assert display.formula_latex(r_expression) == r"\mathtt{interm\_l1\_2}"
    assert display.formula_latex(r_expression, r_net, naming="symcnn") == "a^{(1)}_{0,0,1}"
    with pytest.raises(ValueError, match="needs the network"):
        display.formula_latex(expression, naming="r")


@pytest.mark.parametrize("which", ["a", "c"])
def test_ledgers_render_as_text_latex_and_html(which, net_a, net_c, photo, digit):
    net, x, y = (net_a, photo, 1.0) if which == "a" else (net_c, *digit)
    key = "conv2.weight" if which == "a" else "dense3.weight"
    ledger = net.ledger(x, y, net.weight_symbols(key)[0, 0, 1, 1] if which == "a" else net.weight_symbols(key)[y, 200])
    text = str(ledger)
    assert text.startswith("Chain-rule ledger of ∂L/∂") and f"{ledger.total:.10g}" in text
    assert "… 431 more" in text if which == "a" else "total" in text
    assert ledger._repr_latex_().count(r"\begin{array}") == 3
    assert ledger._repr_html_().count("<table>") == 2


def test_rolled_forms_render(net_c):
    conv = net_c.graph.layer_nodes[0]
    form = si.rolled_form(net_c, conv.pre_activations[1, 2, 3])
    assert r"{b^{(1)}}_{f}" in form._repr_latex_() and "{x}_{c,i + u - 1,j + v - 1}" in form._repr_latex_()
    text = str(si.rolled_form(net_c, net_c.graph.loss_symbol, conv.weights[1, 0, 2, 2]))
    assert "∂L/∂w⁽¹⁾[f, c, u, v]" in text and "∂L/∂w⁽¹⁾[1, 0, 2, 2]" in text


def test_cost_tables_render(net_a):
    table = display.costs_text(si.growth_table(net_a))
    assert table.splitlines()[0].startswith("| layer | layer_by_layer_ops | nested_ops |")
    assert "| loss |" in table and "11,070,008" in table
