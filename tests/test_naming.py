import numpy as np
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


def _as_numpy(scheme, kind, layer, shape, dense=False):
    """The object array a SymbolArray stands for, made symbol by symbol with make_symbol."""
    array = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        array[index] = naming.make_symbol(scheme, kind, layer, index, shape, dense)
    return array


@pytest.mark.parametrize("scheme", naming.SCHEMES)
def test_symbol_arrays_index_reshape_and_iterate_like_the_numpy_arrays_they_replace(scheme):
    shape = (2, 3, 4, 5)
    lazy, eager = naming.symbol_array(scheme, "weight", 1, shape), _as_numpy(scheme, "weight", 1, shape)
    assert lazy.made == 0
    assert (lazy.shape, lazy.ndim, lazy.size, len(lazy)) == (eager.shape, eager.ndim, eager.size, len(eager))
    for key in [(1, 2, 3, 4), (-1, 0, -2, 1), (np.int64(1), 0, 0, 0)]:
        assert lazy[key] == eager[key]
    assert lazy.made == 3
    for key in [0, (1, slice(None), 2), (Ellipsis, 3), (slice(None, None, -1), 1, 1)]:
        assert np.array_equal(lazy[key], eager[key])
    assert lazy.flat[7] == eager.flat[7] and list(lazy.flat) == list(eager.flat)
    assert np.array_equal(np.asarray(lazy), eager) and np.all(lazy == eager)
    reshaped = lazy.reshape(6, -1)
    assert reshaped.shape == (6, 20) and np.array_equal(np.asarray(reshaped), eager.reshape(6, -1))
    assert np.array_equal(np.asarray(lazy.reshape(-1)), eager.reshape(-1))
    assert [lazy.index_of(s) for s in eager.flat] == list(np.ndindex(*shape))
    assert reshaped.index_of(eager[1, 2, 3, 4]) == np.unravel_index(np.ravel_multi_index((1, 2, 3, 4), shape), (6, 20))
    with pytest.raises(IndexError, match="out of bounds"):
        lazy[2, 0, 0, 0]
    with pytest.raises(ValueError, match="cannot reshape array of size 120 into shape"):
        lazy.reshape(7, -1)


@pytest.mark.parametrize("scheme, kind, layer, shape, dense", [
    ("symcnn", "input", None, (1, 4, 4), False), ("r", "input", None, (1, 4, 4), False),
    ("r", "weight", 4, (3, 7), True), ("r", "bias", 4, (3,), True), ("r", "bias", 1, (3,), False),
    ("r", "activation", 2, (2, 3, 3), False), ("r", "target", None, (5,), False)])
def test_a_symbol_is_found_from_its_name_without_making_the_others(scheme, kind, layer, shape, dense):
    lazy, eager = naming.symbol_array(scheme, kind, layer, shape, dense), _as_numpy(scheme, kind, layer, shape, dense)
    for index in np.ndindex(*shape):
        assert lazy.index_of(eager[index]) == index
    assert lazy.made == lazy.size
    fresh = naming.symbol_array(scheme, kind, layer, shape, dense)
    last = tuple(n - 1 for n in shape)
    assert fresh.index_of(eager[last]) == last and fresh.made == 1
    other = naming.make_symbol(scheme, "loss", None, ())
    assert fresh.index_of(other) is None and other not in fresh and sympy.Symbol("w") not in fresh


def test_adjoint_and_template_arrays_are_lazy_too():
    outputs = naming.symbol_array("symcnn", "activation", 3, (2, 5, 5))
    adjoints = naming.adjoint_array(outputs)
    assert adjoints[1, 2, 3] == naming.adjoint_symbol(outputs[1, 2, 3]) and adjoints.made == 1
    assert adjoints.index_of(naming.adjoint_symbol(outputs[0, 4, 4])) == (0, 4, 4)
    patch = naming.template_array("input", (3, 5, 5))
    assert patch[2, 0, 1] == naming.template_symbol("input", (2, 0, 1)) and patch.made == 1
    assert patch.index_of(naming.template_symbol("weight", (2, 0, 1))) is None
