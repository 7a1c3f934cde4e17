"""The chain-rule ledger of one weight: every factor of its gradient with its formula and its number.

>>> import numpy as np, symcnn as sc
>>> net = sc.presets.network_a()
>>> image = np.linspace(0, 1, 729).reshape(1, 27, 27)
>>> weight = net.weight_symbols("conv3.weight")[0, 0, 3, 3]
>>> entry = ledger(net, image, 1.0, weight)
>>> bool(np.isclose(entry.total, net.gradients(image, 1.0)["conv3.weight"][0, 0, 3, 3], rtol=1e-9))
True
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import sympy

from ..activations import is_elementwise
from ..chainrule import gradient_terms
from ..differentiate import local_partials, output_partial, partials_of
from ..display import display_math, ledger_html, ledger_latex, ledger_text
from ..evaluate import compile_expressions
from ..naming import adjoint_symbol
from ..roles import numbered_layers, role_of
from .values import Trace


@dataclass
class LedgerFactor:
    """One chain-rule factor d``of``/d``wrt``: its formula in named scalars and its number."""

    of: sympy.Symbol
    wrt: sympy.Symbol
    formula: sympy.Expr
    value: float = 0.0


@dataclass
class LedgerTerm:
    """What one output position of the weight's layer adds to the gradient: the product of its factors."""

    position: tuple
    factors: list
    value: float = 0.0

    @property
    def upstream(self) -> float:
        """dL/dz at this position: the product of every factor but the last (dz/dw)."""
        return float(np.prod([factor.value for factor in self.factors[:-1]]))


class Ledger:
    """The chain rule for one weight, written out: factors, numbers and the sum over positions.

    ``path`` lists the factors from the loss down to the weight along the largest path (at
    every layer the position that contributes most), each with its formula and number.
    ``terms`` are the gradient's terms, one per output position p of the weight's layer
    (dL/da_p * da_p/dz_p * dz_p/dw), largest first; ``total`` is their sum: the gradient.
    ``expression`` is the same gradient as one sympy expression (chainrule.gradient_expression).

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> image = np.ones((1, 27, 27))
    >>> ledger = net.ledger(image, 1.0, net.weight_symbols("dense4.weight")[0, 7])
    >>> [f"{factor.of}/{factor.wrt}" for factor in ledger.path]
    ['L/a__4_0', 'a__4_0/z__4_0', 'z__4_0/w__4_0_7']
    >>> len(ledger.terms), bool(np.isclose(ledger.total, net.gradients(image, 1.0)["dense4.weight"][0, 7]))
    (1, True)

    Parameters: ``net``; ``x`` one image; ``y`` its label or targets; ``weight`` a weight or
    bias symbol (see ``net.weight_symbols``).
    """

    def __init__(self, net, x, y, weight):
        graph = net.graph
        role = role_of(graph, weight, net.inspection_cache)
        if role.kind not in ("weight", "bias") or role.adjoint:
            raise ValueError(f"{weight} is not a weight or bias of this network")
        self.trace = Trace(net, x, y)
        if len(self.trace.inputs) != 1:
            raise ValueError("a ledger explains one sample: pass one image")
        self.net, self.weight, self.key, self.index = net, weight, role.key, role.index
        self.node_index = role.node
        self.node = graph.nodes[role.node]
        self.terms = self._terms(graph)
        _set_values(self.trace, [factor for term in self.terms for factor in term.factors])
        for term in self.terms:
            term.value = float(np.prod([factor.value for factor in term.factors]))
        self.terms.sort(key=lambda term: -abs(term.value))
        self.total = math.fsum(term.value for term in self.terms)
        self.path = self._path(graph) if self.terms else []

    @functools.cached_property
    def expression(self) -> sympy.Expr:
        """The gradient as one sympy sum over positions: the products of the terms' factors, as
        :func:`symcnn.chainrule.gradient_expression` writes it (from the same terms)."""
        return sympy.Add(*[sympy.Mul(*[factor.formula for factor in term.factors]) for term in self.terms])

    def _terms(self, graph):
        return [LedgerTerm(position, [LedgerFactor(*factor) for factor in factors])
                for position, factors in gradient_terms(graph, self.weight)]

    def _path(self, graph):
        """Factors from the loss down to the weight, choosing the largest contribution at each layer.

        A factor d(of)/d(current) contributes dL/d(of) * d(of)/d(current) to dL/d(current).
        """
        top = self.terms[0]
        path = [top.factors[-1]]
        current, index = top.factors[-1].of, self.node_index
        while True:
            role, node = role_of(graph, current, self.net.inspection_cache), graph.nodes[index]
            if role.kind == "pre_activation":
                positions = list(node.positions()) if not is_elementwise(node.layer.activation) else [role.index]
                choices = [LedgerFactor(node.outputs[p], current, output_partial(node, p, role.index))
                           for p in positions]
            elif index == len(graph.nodes) - 1:
                loss_partial = partials_of(graph.loss_expression, [current])[current]
                path.append(LedgerFactor(graph.loss_symbol, current, loss_partial))
                break
            else:
                index, choices = reader_factors(graph, index, current, self.net.inspection_cache)
            _set_values(self.trace, choices)
            largest = max(choices, key=lambda f: abs(f.value * float(self.trace.value(adjoint_symbol(f.of))[0])))
            path.append(largest)
            current = largest.of
        _set_values(self.trace, path[-1:])
        return path[::-1]

    def position_map(self) -> np.ndarray:
        """The terms on the output grid of the weight's layer (zero where a position adds nothing)."""
        grid = np.zeros(self.node.output_shape)
        for term in self.terms:
            grid[term.position] = term.value
        return grid

    def input_map(self) -> np.ndarray:
        """The gradient split over the scalars the weight's layer reads (first layer: the pixels).

        dz_p/dw is a sum of input scalars, so term p gives dL/dz_p * (d(dz_p/dw)/ds) * s to
        each input scalar s; the map has the layer's input shape and sums to :attr:`total`.
        """
        grid = np.zeros(self.node.input_shape)
        for term in self.terms:
            weight_partial = term.factors[-1].formula
            inputs = [s for s in weight_partial.free_symbols if s in self.node.inputs]
            if not inputs:
                raise ValueError(f"{self.weight}: its gradient reads no input scalar (a bias)")
            for symbol, value in zip(inputs, np.atleast_1d(self.trace.evaluate(
                    [weight_partial.diff(s) * s for s in inputs]))):
                grid[self.node.inputs.index_of(symbol)] += term.upstream * value
        return grid

    def __str__(self) -> str:
        return ledger_text(self)

    def _repr_latex_(self) -> str:
        return display_math(ledger_latex(self))

    def _repr_html_(self) -> str:
        return ledger_html(self)


def _set_values(trace, factors) -> None:
    """Give every factor its number at ``trace``: one compiled function per form of formula.

    A conv weight's ledger has a term per position whose factors differ only in the named
    scalars they hold (a_p (1 - a_p), x_p); formulas that are the same in placeholders
    are compiled once and evaluated on the values of all their named scalars at once.
    """
    groups = {}
    for factor in factors:
        symbols = sorted(factor.formula.free_symbols, key=lambda s: s.name)
        form = factor.formula.xreplace(dict(zip(symbols, _placeholders(len(symbols)))))
        groups.setdefault(form, []).append((factor, symbols))
    for form, members in groups.items():
        count = len(members[0][1])
        # one sample: each named scalar has one value
        values = [np.array([float(trace.value(symbols[i])[0]) for _, symbols in members]) for i in range(count)]
        function = compile_expressions(list(_placeholders(count)), form)
        numbers = np.broadcast_to(np.asarray(function(*values), dtype=float), (len(members),))
        for (factor, _), value in zip(members, numbers):
            factor.value = float(value)


@functools.lru_cache(maxsize=None)
def _placeholders(count: int) -> tuple:
    """Stand-ins for the named scalars of a formula, in name order."""
    return tuple(sympy.Symbol(f"symcnn_ledger_p{i}") for i in range(count))


def reader_factors(graph, index: int, symbol, cache=None):
    """(index of the next layer, factors d(its scalar)/d ``symbol`` for every scalar reading it).

    The scalar is the z of a conv or dense layer (the a of a pooling layer); each factor
    holds the derived local partial, in the order of the reader's positions.

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> following, factors = reader_factors(net.graph, 2, net.graph.nodes[2].outputs[0, 0, 0])
    >>> following, [(str(f.of), str(f.formula)) for f in factors]
    (4, [('z__4_0', 'w__4_0_0')])

    Parameters: ``graph``; ``index`` the layer's index in ``graph.nodes``; ``symbol`` one of its
    outputs; ``cache`` (unused: each layer says which of its positions read a scalar).
    """
    following = next(i for i, _ in numbered_layers(graph) if i > index)
    node = graph.nodes[following]
    stage = "weighted_sum" if node.pre_activations is not None else "output"
    outputs = node.pre_activations if node.pre_activations is not None else node.outputs
    return following, [LedgerFactor(outputs[q], symbol, local_partials(node, q, wrt=[symbol])[stage][symbol])
                       for q in node.positions_reading(symbol)]


def ledger(net, x, y, weight) -> Ledger:
    """The chain-rule ledger of dLoss/d``weight`` at one image (see :class:`Ledger`).

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> entry = ledger(net, np.ones((1, 27, 27)), 1.0, net.weight_symbols("conv3.weight")[0, 0, 1, 1])
    >>> len(entry.terms), len(entry.path)  # 15 x 15 positions; the path passes conv3 and dense4
    (225, 5)
    """
    return Ledger(net, x, y, weight)
