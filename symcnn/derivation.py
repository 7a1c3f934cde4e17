"""The chain rule for one weight as a textbook derives it: from the loss down, step by step, with numbers.

The steps follow Nielsen's four equations. BP1, the error at the output:
dL/dz_k = dL/da_k * da_k/dz_k (for a softmax, summed over its outputs m). BP2, the error
passed back: dL/da_q = sum over the positions r that read q of dL/dz_r * dz_r/da_q, then
dL/dz_q = dL/da_q * da_q/dz_q. BP4 (BP3 for a bias), the sum over positions of a shared
weight: dL/dw = sum_p dL/dz_p * dz_p/dw. Every step is stated once in general (index
variables, the local partials in their rolled form) and then at one position: the one
through which the largest part of the gradient flows (the chain-rule ledger's path).
Every formula is a derived local partial; every number comes from the trace at this input.

>>> import numpy as np, symcnn as sc
>>> net = sc.presets.network_a()
>>> image = np.linspace(0, 1, 729).reshape(1, 27, 27)
>>> derivation = net.derivation(image, 1.0, net.weight_symbols("conv2.weight")[0, 0, 2, 2])
>>> [step.rule for step in derivation.steps]
['BP1', 'BP2', 'BP2', 'BP2', 'BP2', 'BP4']
>>> bool(np.isclose(derivation.total, net.gradients(image, 1.0)["conv2.weight"][0, 0, 2, 2], rtol=1e-12))
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import sympy

from .activations import is_elementwise
from .differentiate import partials_of
from .display import derivation_latex, derivation_text, display_math
from .inspect import INDEX, Ledger, LedgerFactor, reader_factors, rolled_form
from .naming import adjoint_symbol
from .roles import numbered_layers, role_of

#: Position labels of the general statement of an error passed back: q is read by the positions r.
READ, READER = sympy.Symbol("q", integer=True), sympy.Symbol("r", integer=True)


@dataclass
class DerivationStep:
    """One step of a derivation: dL/d``wrt`` at ``position`` of ``layer``, stated and computed.

    The general statement is dL/d``general_wrt`` = sum over ``summed`` of the product of
    the derivatives ∂of/∂wrt in ``statement`` (pairs in index variables, upstream first);
    ``where`` holds the local partials of the statement in their rolled form. At the
    position, ``terms`` are the terms of the same sum, each a list of factors (formula in
    named scalars, value at this input) in chain-rule order: upstream, then local.
    ``value`` is dL/d``wrt`` as the fast path's backward pass computes it (for the last step:
    the sum of the terms), ``values`` the same quantity over the whole layer (for the
    last step: each position's term), ``closed_form`` a simpler equal formula where sympy
    finds one (a - y for sigmoid with cross-entropy, p - t for softmax with cross-entropy).
    """

    name: str
    rule: str
    layer: str
    wrt: sympy.Expr
    position: tuple
    general_wrt: sympy.Expr
    statement: list
    summed: tuple
    where: list
    terms: list
    value: float
    values: np.ndarray | None = None
    closed_form: sympy.Expr | None = None
    note: str = ""

    @property
    def quantity(self) -> sympy.Symbol:
        """The symbol of what this step computes, dL/d``wrt``."""
        return adjoint_symbol(self.wrt)

    @property
    def term_values(self) -> list:
        """Each term's value: the product of its factors' values."""
        return [math.prod(factor.value for factor in term) for term in self.terms]

    @property
    def largest_term(self) -> int:
        """Which term (index into ``terms``) adds the most: the one a textbook writes out in full."""
        return _largest(self.terms)

    @property
    def formula(self) -> sympy.Expr:
        """The step at its position as one sympy sum of products, factors in chain-rule order."""
        products = [sympy.Mul(*[factor.formula for factor in term], evaluate=False) for term in self.terms]
        return products[0] if len(products) == 1 else sympy.Add(*products, evaluate=False)


@dataclass
class Derivation:
    """dLoss/d``weight`` derived as a textbook would: the steps from the loss down, ending in the gradient.

    ``steps`` (:class:`DerivationStep`) go from the output error (BP1) through the errors
    passed back (BP2) to the sum over the weight's positions (BP4; BP3 for a bias);
    ``total`` is that sum, the number ``net.gradients(x, y)[key][index]`` gives. ``ledger``
    is the chain-rule ledger the derivation is built on (its terms and its largest path).
    Shown as text by ``str``, as LaTeX in Jupyter (see :mod:`symcnn.display.derivations`).

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> image = np.ones((1, 27, 27))
    >>> derivation = net.derivation(image, 1.0, net.weight_symbols("dense4.weight")[0, 7])
    >>> [step.name for step in derivation.steps]
    ['output error', 'gradient of the weight']
    >>> derivation.key, derivation.index, len(derivation.steps[-1].terms)
    ('dense4.weight', (0, 7), 1)
    >>> repr(derivation).split(" = ")[0]
    'Derivation(dL/d dense4.weight[0, 7]'


    Parameters: ``net``; ``x`` one image; ``y`` its label or targets; ``weight`` a weight or
    bias symbol (see ``net.weight_symbols``).
    """

    weight: sympy.Symbol
    key: str
    index: tuple
    steps: list = field(default_factory=list)
    total: float = 0.0
    ledger: Ledger | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return derivation_text(self)

    def __repr__(self) -> str:
        rules = ", ".join(step.rule for step in self.steps)
        return f"Derivation(dL/d {self.key}{list(self.index)} = {self.total:.10g}; steps {rules})"

    def _repr_latex_(self) -> str:
        return display_math(derivation_latex(self))


def derive(net, x, y, weight) -> Derivation:
    """The :class:`Derivation` of dLoss/d``weight`` at one image (what ``net.derivation`` returns).

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_c()
    >>> image = np.linspace(0, 1, 784).reshape(1, 28, 28)
    >>> derivation = derive(net, image, 3, net.weight_symbols("dense3.bias")[3])
    >>> derivation.steps[0].closed_form, derivation.steps[-1].rule
    (a__3_3 - y_3, 'BP3')

    Parameters: as :class:`Derivation`.
    """
    ledger = Ledger(net, x, y, weight)
    graph, trace = net.graph, ledger.trace
    chosen = _path_positions(graph, ledger)
    numbered = [i for i, _ in numbered_layers(graph)]
    last = numbered[-1]
    steps = []
    for i in reversed([i for i in numbered if i >= ledger.node_index]):
        node = graph.nodes[i]
        if i == last:
            steps.append(_output_error(net, trace, i, chosen[("pre_activation", i)]))
            continue
        steps.append(_error_passed_back(net, trace, i, chosen[("activation", i)]))
        if node.pre_activations is not None:
            steps.append(_error_at_pre_activation(net, trace, i, chosen[("activation", i)]))
    steps.append(_weight_gradient(net, trace, ledger))
    return Derivation(weight, ledger.key, ledger.index, steps, steps[-1].value, ledger)


def _path_positions(graph, ledger) -> dict:
    """{(kind, layer index): position} of every z and a on the ledger's largest path."""
    chosen = {}
    for factor in ledger.path:
        for symbol in (factor.of, factor.wrt):
            role = role_of(graph, symbol)
            if role.kind in ("activation", "pre_activation") and not role.adjoint:
                chosen.setdefault((role.kind, role.node), role.index)
    return chosen


def _with_values(trace, terms) -> list:
    """``terms`` (lists of factors) with every factor's value at the trace (one compiled function)."""
    factors = [factor for term in terms for factor in term]
    values = np.reshape(trace.evaluate([factor.formula for factor in factors]), -1)  # one sample, (n,) or (1, n)
    for factor, value in zip(factors, values):
        factor.value = float(value)
    return terms


def _positions(count: int) -> str:
    return "1 position" if count == 1 else f"{count} positions"


def _largest(terms) -> int:
    """Index of the term (a list of valued factors) with the largest absolute product."""
    return max(range(len(terms)), key=lambda t: abs(math.prod(factor.value for factor in terms[t])))


def _adjoint_value(trace, symbol) -> float:
    return float(trace.value(adjoint_symbol(symbol))[0])


def _closed_form(graph, product, output, loss: str):
    """A simpler formula equal to ``product`` (the output error), or None if sympy finds none.

    For cross-entropy the targets of one sample sum to 1 (the network checks it), so a
    coefficient sum_m y_m of ``output`` is 1: softmax with cross-entropy gives p - t.
    """
    closed = sympy.cancel(product)
    if loss == "cross_entropy":
        coefficient = sympy.expand(closed).coeff(output)
        if sympy.expand(coefficient - sympy.Add(*graph.target_symbols.flat)) == 0:
            closed = sympy.expand(closed) - coefficient * output + output
    closed = sympy.factor(closed)
    return closed if sympy.count_ops(closed) < sympy.count_ops(product) / 2 else None


def _output_error(net, trace, index, position) -> DerivationStep:
    """BP1: dL/dz_k = sum_m dL/da_m * da_m/dz_k (one term unless the activation is a softmax)."""
    graph = net.graph
    node = graph.nodes[index]
    z = node.pre_activations[position]
    softmax = not is_elementwise(node.layer.activation)
    outputs = [node.outputs[m] for m in (node.positions() if softmax else [position])]
    loss_partials = partials_of(graph.loss_expression, outputs)
    terms = _with_values(trace, [[LedgerFactor(graph.loss_symbol, a, loss_partials[a]),
                                  LedgerFactor(a, z, rolled_form(net, a, z).expanded())] for a in outputs])
    local = rolled_form(net, node.outputs[position], z)
    if softmax:  # the rolled partial is d a_k / d z_m; the statement needs d a_m / d z_k
        k, m = INDEX["k"], INDEX["m"]
        swap = {k: m, m: k}
        local = replace(local, of=local.of.xreplace(swap), wrt=local.wrt.xreplace(swap),
                        general=local.general.xreplace(swap))
        summed = ((m, 0, node.output_shape[0] - 1),)
    else:
        summed = ()
    statement = [(graph.loss_symbol, local.of), (local.of, local.wrt)]
    product = sympy.Add(*[sympy.Mul(*[f.formula for f in term]) for term in terms])
    return DerivationStep(
        "output error", "BP1", node.name, z, position, local.wrt, statement, summed, [local], terms,
        _adjoint_value(trace, z), trace.maps["adjoint_pre_activation", index][0],
        _closed_form(graph, product, node.outputs[position], net.loss_name),
        note=f"the loss is {net.loss_name}, the activation {node.layer.activation}")


def _error_passed_back(net, trace, index, position) -> DerivationStep:
    """BP2, first half: dL/da_q = sum over the positions r that read a_q of dL/d(r) * d(r)/da_q."""
    graph = net.graph
    node = graph.nodes[index]
    a = node.outputs[position]
    following, locals_ = reader_factors(graph, index, a, net.inspection_cache)
    terms = _with_values(trace, [[LedgerFactor(graph.loss_symbol, f.of, adjoint_symbol(f.of)), f]
                                 for f in locals_])
    reader_node = graph.nodes[following]
    reader_kind = "z" if reader_node.pre_activations is not None else "a"
    local = rolled_form(net, locals_[_largest(terms)].of, a)
    read = sympy.IndexedBase(local.wrt.base.label)[READ]
    reader = sympy.IndexedBase(local.of.base.label)[READER]
    statement = [(graph.loss_symbol, reader), (reader, read)]
    return DerivationStep(
        f"error passed back to {node.name}", "BP2", node.name, a, position, read, statement,
        ((READER, None, None),), [local], terms, _adjoint_value(trace, a),
        trace.maps["adjoint_activation", index][0],
        note=f"r runs over the {_positions(len(terms))} of {reader_node.name} whose {reader_kind} reads q")


def _error_at_pre_activation(net, trace, index, position) -> DerivationStep:
    """BP2, second half: dL/dz_q = dL/da_q * da_q/dz_q."""
    graph = net.graph
    node = graph.nodes[index]
    a, z = node.outputs[position], node.pre_activations[position]
    local = rolled_form(net, a, z)
    terms = _with_values(trace, [[LedgerFactor(graph.loss_symbol, a, adjoint_symbol(a)),
                                  LedgerFactor(a, z, local.expanded())]])
    statement = [(graph.loss_symbol, local.of), (local.of, local.wrt)]
    return DerivationStep(
        f"error at {node.name}'s pre-activation", "BP2", node.name, z, position, local.wrt, statement, (),
        [local], terms, _adjoint_value(trace, z), trace.maps["adjoint_pre_activation", index][0],
        note=f"the activation is {node.layer.activation}")


def _weight_gradient(net, trace, ledger) -> DerivationStep:
    """BP4 (BP3 for a bias): dL/dw = sum over the positions p that use w of dL/dz_p * dz_p/dw."""
    graph, node, weight = net.graph, ledger.node, ledger.weight
    terms = []
    for term in sorted(ledger.terms, key=lambda term: term.position):  # a textbook sums in index order
        z = node.pre_activations[term.position]
        upstream = LedgerFactor(graph.loss_symbol, z, adjoint_symbol(z), _adjoint_value(trace, z))
        terms.append([upstream, replace(term.factors[-1])])
    largest = ledger.terms[0].position
    local = rolled_form(net, node.pre_activations[largest], weight)
    gradient = rolled_form(net, graph.loss_symbol, weight)
    summed = tuple((variable, 0, size - 1) for variable, size in zip(local.of.indices[1:], node.output_shape[1:]))
    is_bias = role_of(graph, weight).kind == "bias"
    step = DerivationStep(
        f"gradient of the {'bias' if is_bias else 'weight'}", "BP3" if is_bias else "BP4", node.name, weight,
        ledger.index, gradient.wrt, [(graph.loss_symbol, local.of), (local.of, local.wrt)], summed, [local],
        terms, 0.0, ledger.position_map(),
        note=f"p runs over the {_positions(len(terms))} of {node.name} that {'uses' if len(terms) == 1 else 'use'} "
             f"{ledger.key}[{','.join(str(int(i)) for i in ledger.index)}]")
    step.value = math.fsum(step.term_values)
    return step
