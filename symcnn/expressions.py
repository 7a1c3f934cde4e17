"""User mathematics as data: checking a defining expression, and writing it as a JSON-able structure.

A user-defined activation or loss is a sympy expression built from an allow-list of node
types: numbers, its own variables, ``+ * **``, the elementary functions below and symcnn's
own opaque functions (see :mod:`symcnn.functions`). Every one of them has a NumPy and a C
meaning, so whatever passes :func:`defining_expression` can be evaluated, exported and saved.

Saved, an expression is a nested list ``[node type, arguments...]``; reading it back
(:func:`from_structure`) builds each node with its sympy constructor, looked up in the
allow-list: nothing in the structure is parsed or executed (no ``eval``, ``sympify``,
``parse_expr`` or pickle), so an unknown node type, a symbol that is not one of the
expression's variables, an oversized number or an absurd depth is refused with a
``ValueError`` that names it.

>>> import sympy
>>> from symcnn.functions import Sigmoid
>>> z = sympy.Symbol("z", real=True)
>>> structure = to_structure(z * Sigmoid(z) + sympy.Float(0.5))
>>> structure
['Add', ['Float', '0x1.0000000000000p-1'], ['Mul', ['Symbol', 'z'], ['Sigmoid', ['Symbol', 'z']]]]
>>> from_structure(structure, {"z": z}) == z * Sigmoid(z) + sympy.Float(0.5)
True
>>> from_structure(["__import__", ["Symbol", "z"]], {"z": z})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: expression: unknown node type '__import__' (allowed: Add, Mul, Pow, Integer, ..., ReLU, Step)
"""

from __future__ import annotations

import re

import sympy
from sympy.codegen.cfunctions import expm1, log1p

from .functions import ELEMENTARY_FUNCTIONS, expand_definitions

#: Functions of one argument a user expression may use, by the name stored in a file.
FUNCTIONS = {cls.__name__: cls for cls in (
    sympy.exp, sympy.log, sympy.tanh, sympy.sinh, sympy.cosh, sympy.sin, sympy.cos, sympy.atan,
    sympy.Abs, sympy.sign, expm1, log1p, *(cls for cls in ELEMENTARY_FUNCTIONS if cls.unary))}
OPERATIONS = {"Add": sympy.Add, "Mul": sympy.Mul, "Pow": sympy.Pow}
CONSTANTS = {"pi": sympy.pi, "E": sympy.E}
NODE_TYPES = (*OPERATIONS, "Integer", "Rational", "Float", *CONSTANTS, "Symbol", *FUNCTIONS)

#: Limits on what a file may ask to be built (a real activation or loss is far below them).
MAX_DEPTH = 64
MAX_NODES = 10_000
MAX_DIGITS = 40
MAX_INTEGER_POWER = 64  # number ** integer is computed exactly by sympy: keep it small

_INTEGER = re.compile(r"-?[0-9]{1,%d}" % MAX_DIGITS)
_FLOAT_HEX = re.compile(r"-?(0x[01]\.[0-9a-f]{13}p[+-][0-9]{1,4}|0x0\.0p\+0|inf|nan)")


def _refuse(what: str, problem: str):
    raise ValueError(f"{what}: {problem}")


def _float_structure(number, what):
    value = float(number)
    rebuilt = sympy.Float(value)
    # sympy Floats carry a precision; only float64's (53 bits) is stored and rebuilt exactly
    if sympy.srepr(rebuilt) != sympy.srepr(number):
        _refuse(what, f"the Float {number} has a precision other than float64's; write it as a Python "
                      "float or a sympy Rational")
    return ["Float", value.hex()]


def to_structure(expression, what: str = "expression") -> list:
    """``expression`` as nested lists ``[node type, arguments...]`` (JSON-able, exact).

    Integers and rationals are stored as decimal strings, floats as their exact hexadecimal
    form (``float.hex``). Raises ``ValueError`` for a node outside the allow-list.
    """
    if isinstance(expression, sympy.Symbol):
        return ["Symbol", expression.name]
    if expression.is_Integer:
        return ["Integer", str(int(expression))]
    if expression.is_Rational:
        return ["Rational", str(expression.p), str(expression.q)]
    if expression.is_Float:
        return _float_structure(expression, what)
    for name, constant in CONSTANTS.items():
        if expression is constant:
            return [name]
    name = type(expression).__name__
    if OPERATIONS.get(name) is type(expression) or FUNCTIONS.get(name) is type(expression):
        return [name, *[to_structure(argument, what) for argument in expression.args]]
    _refuse(what, f"{name} ({expression}) is not among the node types symcnn can evaluate, export and save "
                  f"({', '.join(NODE_TYPES)})")


def _number(structure, what):
    kind, *fields = structure
    if not all(isinstance(field, str) for field in fields):
        _refuse(what, f"a {kind} must hold its digits as strings, got {structure!r}")
    if kind == "Float":
        if len(fields) != 1 or not _FLOAT_HEX.fullmatch(fields[0]) or fields[0].lstrip("-") in ("inf", "nan"):
            _refuse(what, f"malformed or non-finite Float {structure!r}")
        return sympy.Float(float.fromhex(fields[0]))
    if len(fields) != (1 if kind == "Integer" else 2) or not all(_INTEGER.fullmatch(f) for f in fields):
        _refuse(what, f"malformed {kind} {structure!r} (at most {MAX_DIGITS} digits)")
    if kind == "Integer":
        return sympy.Integer(int(fields[0]))
    if int(fields[1]) <= 0:
        _refuse(what, f"a Rational needs a positive denominator, got {structure!r}")
    return sympy.Rational(int(fields[0]), int(fields[1]))


def from_structure(structure, symbols: dict, what: str = "expression"):
    """The sympy expression a :func:`to_structure` list describes, built from the allow-list only.

    ``symbols`` maps each allowed symbol name to its symbol (an activation's ``z``; a loss's
    ``p`` and ``t``); any other name is refused, as are unknown node types, malformed
    numbers, more than :data:`MAX_NODES` nodes or a nesting deeper than :data:`MAX_DEPTH`.
    """
    count = 0

    def build(node, depth):
        nonlocal count
        count += 1
        if count > MAX_NODES:
            _refuse(what, f"more than {MAX_NODES} nodes")
        if depth > MAX_DEPTH:
            _refuse(what, f"nested deeper than {MAX_DEPTH} levels")
        if not isinstance(node, list) or not node or not isinstance(node[0], str):
            _refuse(what, f"each node must be a list [node type, arguments...], got {str(node)[:80]}")
        kind, arguments = node[0], node[1:]
        if kind in ("Integer", "Rational", "Float"):
            return _number(node, what)
        if kind in CONSTANTS:
            if arguments:
                _refuse(what, f"the constant {kind} takes no arguments")
            return CONSTANTS[kind]
        if kind == "Symbol":
            if len(arguments) != 1 or not isinstance(arguments[0], str) or arguments[0] not in symbols:
                _refuse(what, f"unknown symbol {str(arguments)[:80]} (allowed: {', '.join(symbols)})")
            return symbols[arguments[0]]
        if kind not in OPERATIONS and kind not in FUNCTIONS:
            _refuse(what, f"unknown node type {kind[:80]!r} (allowed: {', '.join(NODE_TYPES)})")
        built = [build(argument, depth + 1) for argument in arguments]
        if kind in FUNCTIONS:
            if len(built) != 1:
                _refuse(what, f"{kind} takes one argument, got {len(built)}")
            return FUNCTIONS[kind](built[0])
        if kind == "Pow":
            if len(built) != 2:
                _refuse(what, f"Pow takes two arguments, got {len(built)}")
            if built[0].is_number and built[1].is_Integer and abs(int(built[1])) > MAX_INTEGER_POWER:
                _refuse(what, f"a number raised to the power {built[1]} (at most {MAX_INTEGER_POWER})")
        elif len(built) < 2:
            _refuse(what, f"{kind} takes two or more arguments, got {len(built)}")
        return OPERATIONS[kind](*built)

    return build(structure, 0)


def defining_expression(f, variables, what: str) -> sympy.Expr:
    """``f(*variables)``, checked to be a sympy expression that symcnn can differentiate, run, export and save.

    Defined functions inside it (another user activation, say) are replaced by their
    definitions. Raises ``TypeError`` if ``f`` is not callable, fails on sympy symbols or
    returns something that is not a sympy expression; ``ValueError`` if the expression
    uses another symbol, does not depend on the first variable, or holds a node outside
    the allow-list.

    >>> z = sympy.Symbol("z", real=True)
    >>> defining_expression(lambda z: z * sympy.tanh(z), (z,), "Activation 'x_tanh'")
    z*tanh(z)
    >>> defining_expression(lambda z: 1.0, (z,), "Activation 'one'")
    Traceback (most recent call last):
    ...
    TypeError: Activation 'one': f must return a sympy expression of z, got float 1.0
    """
    names = ", ".join(v.name for v in variables)
    if not callable(f):
        raise TypeError(f"{what}: f must be a function of {names} returning a sympy expression, "
                        f"got {type(f).__name__}")
    try:
        expression = f(*variables)
    except Exception as error:  # noqa: BLE001 - any failure of user code is reported as the user's
        raise TypeError(f"{what}: f({names}) failed on sympy symbols ({type(error).__name__}: {error}); "
                        "use sympy functions (sympy.exp, sympy.tanh, sc.sigmoid, ...), not math or numpy "
                        "ones") from None
    if not isinstance(expression, sympy.Expr):
        raise TypeError(f"{what}: f must return a sympy expression of {names}, got "
                        f"{type(expression).__name__} {expression!r}"[:300])
    expression = expand_definitions(expression)
    others = expression.free_symbols - set(variables)
    if others:
        raise ValueError(f"{what}: the expression {expression} uses "
                         f"{', '.join(sorted(repr(s.name) for s in others))}; it may use only {names} "
                         "(the symbol(s) f is called with)")
    if variables[0] not in expression.free_symbols:
        raise ValueError(f"{what}: the expression {expression} does not depend on {variables[0].name}, "
                         "so every gradient through it would be 0")
    structure = to_structure(expression, what)
    if from_structure(structure, {v.name: v for v in variables}, what) != expression:  # saved == rebuilt
        raise ValueError(f"{what}: the expression {expression} would not be rebuilt exactly from a saved file")
    return expression
