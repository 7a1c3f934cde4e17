"""The order a textbook writes things in: products in chain-rule order, sums by index.

A term of dL/dw is written upstream first (CS231n): the adjoint dL/da, then the local
partials layer by layer from the loss down (da/dz before dz/dw), then the input. A sum is
written in increasing index order, compared as numbers (``x_{0,10,3}`` before ``x_{0,10,10}``).

>>> import symcnn as sc
>>> net = sc.presets.network_a()
>>> term = net.gradient_expression(net.weight_symbols("conv2.weight")[0, 0, 2, 1]).args[0]
>>> coefficient, factors = chain_rule_factors(term)
>>> [str(f) for f in factors]
['g___a__2_0_0_0', 'a__2_0_0_0', '1 - a__2_0_0_0', 'a__1_0_2_1']
>>> x = net.graph.input_symbols
>>> [str(t) for t in ordered_terms(x[0, 0, 10] + x[0, 0, 3] + x[0, 0, 2] + 1)]
['x_0_0_2', 'x_0_0_3', 'x_0_0_10', '1']
"""

from __future__ import annotations

import re

import sympy

from ..checks import as_expression
from ..naming import NamedScalar, parse_name

#: Chain-rule rank of each kind of scalar within one layer: what is nearer the loss comes first.
#: Targets are data, like the input: they go last (p - t).
KIND_RANKS = {"loss": 0, "adjoint": 1, "activation": 2, "pre_activation": 3, "weight": 4, "bias": 5,
              "input": 6, "target": 7}
_OUTSIDE_NETWORK = 10 ** 6  # the loss sits above every layer
_DIGITS = re.compile(r"(\d+)")


def _index_key(index) -> tuple:
    """An index compared as a number when it is one, else by its text (index variables)."""
    return (0, int(index), "") if isinstance(index, (int, sympy.Integer)) else (1, 0, str(index))


def _natural_key(name: str) -> tuple:
    return tuple(_index_key(int(part)) if part.isdigit() else (1, 0, part) for part in _DIGITS.split(name) if part)


def symbol_key(symbol, indices=None) -> tuple:
    """(-layer, kind rank, indices) of a named scalar: smaller means nearer the loss.

    ``indices`` replaces the symbol's own (an array entry ``w[f, c, u, v]`` of a rolled form
    passes its base label and its indices). A name of no scheme sorts by its text.

    >>> symbol_key(NamedScalar("a__2_0_8_0")) < symbol_key(NamedScalar("a__1_0_10_1"))
    True
    """
    try:
        scalar = parse_name(symbol.name)
    except ValueError:
        return (0, len(KIND_RANKS), _natural_key(symbol.name) + tuple(_index_key(i) for i in indices or ()))
    if scalar.kind == "adjoint" or scalar.layer is not None:
        layer = scalar.layer if scalar.layer is not None else _OUTSIDE_NETWORK
    else:
        layer = 0 if scalar.kind in ("input", "target") else _OUTSIDE_NETWORK
    own = scalar.indices if indices is None else indices
    return (-layer, KIND_RANKS[scalar.kind], tuple(_index_key(i) for i in own))


def _symbol_keys(expression) -> list:
    """Keys of the named scalars and array entries in ``expression``, nearest the loss first."""
    keys = []
    entries = expression.atoms(sympy.Indexed)
    for entry in entries:
        keys.append(symbol_key(entry.base.label, entry.indices))
    labels = {entry.base.label for entry in entries}
    for symbol in expression.atoms(sympy.Symbol):
        if isinstance(symbol, NamedScalar) and symbol not in labels:
            keys.append(symbol_key(symbol))
    return sorted(keys)


def factor_key(factor) -> tuple:
    """Where a factor goes in a product: numbers and targets, then adjoints, then layer by layer down to the input.

    A factor is placed by the scalar in it nearest the loss; a lone scalar goes before a
    compound factor of the same scalar (a before 1 - a, as in sigma' = sigma (1 - sigma)).
    """
    keys = _symbol_keys(factor)
    if not keys:
        return (0, (), 0, str(factor))
    if all(key[1] == KIND_RANKS["target"] for key in keys):  # a target is a coefficient: -y log p
        return (0, (), 1 if factor.is_Atom else 2, tuple(keys))
    adjoint = any(key[1] == KIND_RANKS["adjoint"] for key in keys)
    return (1 if adjoint else 2, keys[0][:2], 0 if factor.is_Atom or isinstance(factor, sympy.Indexed) else 1,
            tuple(keys))


def chain_rule_factors(product) -> tuple:
    """(numeric coefficient, the other factors in chain-rule order) of a product."""
    coefficient, factors = as_expression(product).as_coeff_mul()
    return coefficient, sorted(factors, key=factor_key)


def term_key(term) -> tuple:
    """Where a term goes in a sum: numbers first, then by the indices of its factors in chain-rule order."""
    _, factors = chain_rule_factors(term)
    if not factors:
        return (0,)
    keys = tuple(factor_key(f) for f in factors)
    return (2 if all(key[:3:2] == (0, 1) for key in keys) else 1,) + keys  # a lone target goes last: p - t


def ordered_terms(expression) -> list:
    """The terms of a sum in the order a textbook writes them.

    By index; a number goes last (u + 2) unless the rest starts with a minus (1 - a); a sum
    of no named scalar (index arithmetic such as i + u - 1) keeps sympy's order.
    """
    expression = as_expression(expression)
    if not _symbol_keys(expression):
        return list(expression.as_ordered_terms())
    terms = sorted(sympy.Add.make_args(expression), key=term_key)
    numbers = [t for t in terms if t.is_number]
    others = [t for t in terms if not t.is_number]
    if others and others[0].could_extract_minus_sign():
        return numbers + others
    return others + numbers
