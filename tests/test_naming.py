import pytest
import sympy

from symcnn import naming
from symcnn.presets import network_a


@pytest.mark.parametrize("kind, layer, indices", [
    ("input", None, (0, 3, 4)), ("weight", 2, (0, 0, 1, 3)), ("bias", 1, (4,)),
    ("pre_activation", 3, (0, 14, 14)), ("activation", 4, (0,)), ("target", None, (1,)),
    ("weight", 4, (0, 224))])
def test_symcnn_names_parse_back(kind, layer, indices):
    symbol = naming.make_symbol("symcnn", kind, layer, indices)
    assert naming.parse_name(symbol.name) == naming.ScalarName(kind, layer, indices)


def test_symcnn_names_render_as_indexed_latex():
    assert sympy.latex(naming.make_symbol("symcnn", "activation", 1, (0, 2, 3))) == "a^{(1)}_{0,2,3}"
    assert sympy.latex(naming.make_symbol("symcnn", "input", None, (0, 5, 6))) == "x_{0,5,6}"
    w = naming.make_symbol("symcnn", "weight", 3, (0, 0, 6, 6))
    assert sympy.latex(2 * w) == "2 w^{(3)}_{0,0,6,6}"


def test_r_scheme_reproduces_the_walkthrough_names():
    net = network_a(naming="r")
    graph = net.graph
    assert graph.input_symbols[0, 0, 0].name == "inp_1"
    assert graph.input_symbols[0, 26, 26].name == "inp_729"
    assert [w.name for w in graph.layer_nodes[0].weights.flat] == [f"l1m1w{k}" for k in range(1, 10)]
    assert graph.layer_nodes[0].outputs[0, 0, 1].name == "interm_l1_2"
    assert graph.layer_nodes[3].weights[0, 16].name == "l4w17_1"
    assert naming.parse_name("l4w17_1") == naming.ScalarName("weight", 4, (1, 17))
    assert naming.parse_name("interm_l1_2") == naming.ScalarName("activation", 1, (2,))
    assert "interm" in sympy.latex(graph.layer_nodes[0].outputs[0, 0, 1])


def test_r_scheme_bias_names_tell_conv_from_dense():
    assert naming.make_symbol("r", "bias", 1, (0,), (3,)).name == "l1m1b"
    assert naming.make_symbol("r", "bias", 4, (1,), (2,), dense=True).name == "l4b_2"


def test_bad_names_and_schemes_are_rejected():
    with pytest.raises(ValueError, match="not a symcnn symbol name"):
        naming.parse_name("banana split")
    with pytest.raises(ValueError, match="naming must be one of"):
        naming.check_scheme("latin")
    with pytest.raises(TypeError, match="name must be a str"):
        naming.parse_name(3)
