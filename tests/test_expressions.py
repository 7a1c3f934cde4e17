"""Expressions as data: exact round trips, and a refusal (naming the problem) for anything off the allow-list."""

import json

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy.codegen.cfunctions import expm1, log1p

import symcnn as sc
from symcnn.activations import ACTIVATIONS, Z
from symcnn.expressions import FUNCTIONS, MAX_DEPTH, MAX_NODES, NODE_TYPES, from_structure, to_structure
from symcnn.losses import DEFINED_LOSSES, P, T

SYMBOLS = {"z": Z}

EXPRESSIONS = [
    Z * sc.sigmoid(Z),
    sympy.Float(0.1) * Z + sympy.Float(-2.5e-300) * Z ** 3 + sympy.Float(1e300),
    sympy.Rational(-3, 7) * sympy.exp(-Z ** 2 / 2) / sympy.sqrt(2 * sympy.pi),
    sympy.log(1 + sympy.Abs(Z)) * sympy.sign(Z) + sympy.atan(Z) ** sympy.Rational(1, 3),
    expm1(Z) - log1p(sympy.E * Z) + sympy.tanh(Z) * sympy.sinh(Z) / sympy.cosh(Z) + sympy.sin(Z) - sympy.cos(Z),
    sc.relu(Z) + sc.step(-Z) - sc.log_sigmoid(Z) + sympy.Integer(10) ** 30 * Z,
    *[a.expression for a in ACTIVATIONS.values() if isinstance(a, sc.Activation)],
]


@pytest.mark.parametrize("expression", EXPRESSIONS, ids=str)
def test_round_trip_through_json_is_exact(expression):
    structure = json.loads(json.dumps(to_structure(expression)))
    rebuilt = from_structure(structure, SYMBOLS)
    assert rebuilt == expression and sympy.srepr(rebuilt) == sympy.srepr(expression)


def test_a_loss_round_trips_in_its_two_symbols():
    huber = DEFINED_LOSSES["huber"].expression
    assert from_structure(to_structure(huber), {"p": P, "t": T}) == huber


def test_floats_keep_every_bit():
    value = 0.1 + 0.2  # not 0.3: its last bits must survive
    rebuilt = from_structure(to_structure(sympy.Float(value) * Z), SYMBOLS)
    assert float(rebuilt.coeff(Z)) == value


def test_every_node_type_is_named_in_the_allow_list():
    assert {"Add", "Mul", "Pow", "Float", "Symbol", "exp", "Sigmoid", "ReLU"} <= set(NODE_TYPES)


def _nested(depth, leaf=None):
    node = leaf or ["Symbol", "z"]
    for _ in range(depth):
        node = ["exp", node]
    return node


@pytest.mark.parametrize("structure, pattern", [
    (["__import__", ["Symbol", "os"]], r"unknown node type '__import__' \(allowed: Add, Mul"),
    (["eval", ["Symbol", "z"]], r"unknown node type 'eval'"),
    (["Symbol", "os"], r"unknown symbol \['os'\] \(allowed: z\)"),
    (["Symbol", ["z"]], r"unknown symbol"),
    (["Heaviside", ["Symbol", "z"]], r"unknown node type 'Heaviside'"),
    (["Function", ["Symbol", "z"]], r"unknown node type 'Function'"),
    ("z + 1", r"each node must be a list \[node type, arguments...\], got z \+ 1"),
    ({"Add": []}, r"each node must be a list"),
    ([], r"each node must be a list"),
    ([["Add"]], r"each node must be a list"),
    (["Integer", "1" * 41], r"malformed Integer .* \(at most 40 digits\)"),
    (["Integer", "1e5"], r"malformed Integer"),
    (["Integer", 5], r"must hold its digits as strings"),
    (["Rational", "1", "0"], r"positive denominator"),
    (["Float", "inf"], r"malformed or non-finite Float"),
    (["Float", "0x1.8p+1; import os"], r"malformed or non-finite Float"),
    (["Float", "1.5"], r"malformed or non-finite Float"),
    (["Pow", ["Integer", "2"], ["Integer", "100000000"]], r"a number raised to the power 100000000"),
    (["Pow", ["Symbol", "z"]], r"Pow takes two arguments, got 1"),
    (["Add", ["Symbol", "z"]], r"Add takes two or more arguments, got 1"),
    (["exp", ["Symbol", "z"], ["Symbol", "z"]], r"exp takes one argument, got 2"),
    (["pi", ["Symbol", "z"]], r"the constant pi takes no arguments"),
    (_nested(MAX_DEPTH + 1), rf"nested deeper than {MAX_DEPTH} levels"),
    (["Add", *[["Symbol", "z"]] * (MAX_NODES + 1)], rf"more than {MAX_NODES} nodes"),
])
def test_anything_off_the_allow_list_is_refused_naming_it(structure, pattern):
    with pytest.raises(ValueError, match=pattern):
        from_structure(structure, SYMBOLS)


def test_a_hundred_thousand_levels_are_refused_without_recursing_through_them():
    structure = _nested(100_000)  # refused at level MAX_DEPTH + 1, never walked further
    with pytest.raises(ValueError, match="nested deeper"):
        from_structure(structure, SYMBOLS)


@pytest.mark.parametrize("expression, pattern", [
    (sympy.Heaviside(Z), r"Heaviside \(Heaviside\(z\)\) is not among the node types"),
    (sympy.Max(Z, 0), r"Max"),
    (sympy.I * Z, r"ImaginaryUnit"),
    (sympy.zoo, r"ComplexInfinity"),
    (sympy.Float("0.1", 40) * Z, r"precision other than float64's"),
])
def test_writing_refuses_what_could_not_be_read_back(expression, pattern):
    with pytest.raises(ValueError, match=pattern):
        to_structure(expression)


def _expressions():
    """Random expressions over the allow-list: numbers, z, + * ** and every allowed function."""
    numbers = st.one_of(st.integers(-50, 50).map(sympy.Integer),
                        st.tuples(st.integers(-20, 20), st.integers(1, 20)).map(lambda pq: sympy.Rational(*pq)),
                        st.floats(-1e6, 1e6, allow_nan=False).map(sympy.Float),
                        st.sampled_from([sympy.pi, sympy.E]))

    def extend(children):
        functions = st.tuples(st.sampled_from(sorted(FUNCTIONS)), children).map(lambda fc: FUNCTIONS[fc[0]](fc[1]))
        return st.one_of(functions,
                         st.lists(children, min_size=2, max_size=3).map(lambda args: sympy.Add(*args)),
                         st.lists(children, min_size=2, max_size=3).map(lambda args: sympy.Mul(*args)),
                         st.tuples(children, st.integers(-3, 3)).map(lambda be: be[0] ** be[1]))
    return st.recursive(st.one_of(st.just(Z), numbers), extend, max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(_expressions())
def test_random_expressions_round_trip_exactly(expression):
    try:
        structure = json.loads(json.dumps(to_structure(expression)))
    except ValueError:  # sympy evaluated it to something off the list (zoo, nan, a complex number)
        return
    assert sympy.srepr(from_structure(structure, SYMBOLS)) == sympy.srepr(expression)
