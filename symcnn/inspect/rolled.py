"""Rolled and expanded forms: a layer's z, a, local partials and gradients written once for all
positions (sums with index ranges over indexed arrays), and the same instantiated at one position.

>>> import symcnn as sc
>>> net = sc.presets.network_a()
>>> z = net.graph.layer_nodes[0].pre_activations[0, 2, 3]
>>> rolled_form(net, z).at  # z at row 2, column 3: the sums stay rolled
Sum(w__1[0, c, u, v]*x[c, u + 2, v + 3], (c, 0, 0), (u, 0, 2), (v, 0, 2))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from ..activations import activation_function, is_elementwise
from ..chainrule import gradient_expression
from ..differentiate import derive_template, local_partials
from ..display import display_math, rolled_latex, rolled_text
from ..evaluate import compile_expressions
from ..layers import ALPHA, INDEX, ZETA
from ..naming import adjoint_array, adjoint_symbol, make_symbol
from ..roles import previous_layer, role_of


class _ZeroOutside:
    """An array read by generated code; entries outside it (the zero padding) read as 0."""

    def __init__(self, values):
        self.values = values

    def __getitem__(self, index):
        index = tuple(int(k) for k in (index if isinstance(index, tuple) else (index,)))
        if any(not 0 <= k < n for k, n in zip(index, self.values.shape)):
            return 0.0
        return self.values[index]


@dataclass
class RolledForm:
    """A quantity written once for all positions (sums with index ranges over indexed arrays).

    ``general`` is d``of``/d``wrt`` (or ``of`` itself when ``wrt`` is None) in index
    variables; ``at`` is the same at the chosen scalar, sums still rolled; ``arrays`` tells
    each ``IndexedBase`` its named scalars and where its numbers come from. :meth:`expanded`
    unrolls ``at`` into named scalars; :meth:`evaluate` runs it on numbers.
    """

    of: sympy.Expr
    wrt: sympy.Expr | None
    general: sympy.Expr
    of_at: sympy.Expr
    wrt_at: sympy.Expr | None
    at: sympy.Expr
    arrays: dict

    def expanded(self) -> sympy.Expr:
        """``at`` with every sum written out and every array entry replaced by its named scalar."""
        unrolled = self.at.doit()
        entries = {}
        for entry in unrolled.atoms(sympy.Indexed):
            symbols = self.arrays[entry.base][0]
            index = tuple(int(k) for k in entry.indices)
            inside = all(0 <= k < n for k, n in zip(index, symbols.shape))
            entries[entry] = symbols[index] if inside else sympy.S.Zero
        return unrolled.xreplace(entries)

    def evaluate(self, trace) -> np.ndarray:
        """(N,) values of ``at`` for each sample of ``trace`` (a :class:`Trace`)."""
        bases = list(self.arrays)
        function = compile_expressions(bases, self.at)
        values = [self.arrays[base][1](trace) for base in bases]
        return np.array([float(function(*[_ZeroOutside(v[n]) for v in values]))
                         for n in range(len(trace.inputs))])

    def __str__(self) -> str:
        return rolled_text(self)

    def _repr_latex_(self) -> str:
        return display_math(rolled_latex(self))


class _RolledLayer:
    """One layer's rolled forms: its arrays, its weighted sum and output in index variables."""

    def __init__(self, graph, index: int):
        node = self.node = graph.nodes[index]
        self.index = index
        derive_template(node.template)  # cached: the template partials are derived once
        previous = previous_layer(graph, index)
        m = INDEX["m"]

        def base(kind, layer):
            return sympy.IndexedBase(make_symbol("symcnn", kind, layer, ()))

        x_base = base("input", None) if previous is None else base("activation", graph.nodes[previous].number)
        self.x_base = x_base
        self.arrays = {x_base: (node.inputs, lambda trace: trace.layer_input(index))}
        self.w_base = self.b_base = self.z_base = None
        self.a_base = self._add(base("activation", node.number), node.outputs, "activation")
        layer = node.layer
        if node.pre_activations is None:  # pooling: a is the pooled window of its inputs
            indexing = layer.rolled_indexing(node, x_base, None)
            self.position, self.window = indexing.position, indexing.window
            self.output = node.template.output.xreplace(self.window)
            return
        self.z_base = self._add(base("pre_activation", node.number), node.pre_activations, "pre_activation")
        self.g_base = self._add(sympy.IndexedBase(adjoint_symbol(self.a_base.label)),
                                adjoint_array(node.outputs), "adjoint_activation")
        self.w_base = self._add(base("weight", node.number), node.weights, ("weight", node.name))
        if node.bias is not None:
            self.b_base = self._add(base("bias", node.number), node.bias, ("bias", node.name))
        indexing = layer.rolled_indexing(node, x_base, self.w_base)
        self.position, self.unit = indexing.position, indexing.unit
        self.x_entry, self.w_entry = indexing.x_entry, indexing.w_entry
        self.summed, self.weight_indices = indexing.summed, indexing.weight_indices
        self.positions_summed = indexing.positions_summed
        self.summand = self.w_entry * self.x_entry
        # dz/dw in rolled form: the input entry, summed over what the weight's indices do not fix
        extra = tuple(s for s in self.summed if s[0] not in self.weight_indices)
        by_weight = sympy.diff(self.summand, self.w_entry)
        self.weight_partial = sympy.Sum(by_weight, *extra) if extra else by_weight
        self.weighted_sum = sympy.Sum(self.summand, *self.summed)
        if self.b_base is not None:
            self.weighted_sum += self.b_base[self.unit]
        z, a = self.z_base[self.position], self.a_base[self.position]
        if not is_elementwise(layer.activation):
            # a_k = e^{z_k} / sum_j e^{z_j} and its derived partial a_k (delta_km - a_m)
            self.output, self.activation_partial = activation_function(layer.activation).rolled(
                self.z_base, self.a_base, self.position[0], m, node.output_shape[0])
        else:
            self.output = node.template.output.xreplace({ZETA: self.weighted_sum})
            self.activation_partial = node.template.partials["output"][ZETA].xreplace({ZETA: z, ALPHA: a})

    def _add(self, base, symbols, source):
        if isinstance(source, tuple):  # a parameter: the same value for every sample
            key = f"{source[1]}.{source[0]}"
            getter = lambda trace: np.broadcast_to(trace.params[key], (len(trace.inputs), *symbols.shape))  # noqa: E731
        else:
            getter = lambda trace: trace.maps[source, self.index]  # noqa: E731
        self.arrays[base] = (symbols, getter)
        return base

    def _point(self, indices) -> dict:
        return dict(zip(self.position, indices))

    def definition(self, role) -> RolledForm:
        """z or a at one position: the weighted sum, the activation of it, or the pooled window."""
        point = self._point(role.index)
        if role.kind == "pre_activation":
            of, general = self.z_base[self.position], self.weighted_sum
        else:
            of, general = self.a_base[self.position], self.output
        return RolledForm(of, None, general, of.subs(point), None, general.subs(point), self.arrays)

    def _indexed(self, role, symbol):
        """The array entry of a named scalar this layer reads or owns, with concrete indices."""
        owned = {"weight": self.w_base, "bias": self.b_base, "pre_activation": self.z_base}
        if role.node == self.index and owned.get(role.kind) is not None:
            return owned[role.kind][role.index]
        where = None if role.adjoint else self.node.inputs.index_of(symbol)
        if where is None:
            raise ValueError(f"{symbol} is not a scalar {self.node.name} reads or owns")
        return self.x_base[where]

    def partial(self, of_role, wrt_role, wrt) -> RolledForm:
        """A local partial: dz/d(weight, bias or input), da/dz, or d(pooled)/d(input)."""
        point = self._point(of_role.index)
        wrt_at = self._indexed(wrt_role, wrt)
        if of_role.kind == "pre_activation":
            of = self.z_base[self.position]
            if wrt_role.kind == "weight":
                general, wrt_general = self.weight_partial, self.w_entry
            elif wrt_role.kind == "bias":
                general, wrt_general = sympy.S.One, self.b_base[self.unit]
            else:
                general, wrt_general = sympy.diff(self.summand, self.x_entry), self.x_entry
            at = sympy.diff(self.weighted_sum.subs(point), wrt_at).doit()
        elif self.node.pre_activations is not None:  # da/dz
            of, general = self.a_base[self.position], self.activation_partial
            if not is_elementwise(self.node.layer.activation):
                wrt_general = self.z_base[INDEX["m"]]
                at = general.subs({INDEX["k"]: of_role.index[0], INDEX["m"]: wrt_role.index[0]})
            else:
                wrt_general = self.z_base[self.position]
                at = general.subs(point) if wrt_role.index == of_role.index else sympy.S.Zero
        else:  # pooling: the derived template partial of the window entry that is wrt
            of = self.a_base[self.position]
            entry = next((xi for xi, x in self.window.items() if x.subs(point) == wrt_at), None)
            general, wrt_general = sympy.S.Zero, wrt_at
            if entry is not None:
                general = self.node.template.partials["output"][entry].xreplace(self.window)
                wrt_general = self.window[entry]
            at = general.subs(point)
        return RolledForm(of, wrt_general, general, of.subs(point), wrt_at, at, self.arrays)

    def gradient(self, graph, role) -> RolledForm:
        """dL/dw (or dL/db) as a sum over the layer's positions of dL/dz_p * dz_p/dw."""
        k, m = INDEX["k"], INDEX["m"]
        if not is_elementwise(self.node.layer.activation):
            upstream = sympy.Sum(self.g_base[m] * self.activation_partial.xreplace({k: m, m: k}), (m, 0,
                                 self.node.output_shape[0] - 1))
        else:
            upstream = self.g_base[self.position] * self.activation_partial
        if role.kind == "bias":
            wrt, general = self.b_base[self.unit], upstream
            point = {self.unit: role.index[0]}
        else:
            wrt = self.w_base[self.weight_indices]
            general = upstream * self.weight_partial
            point = {s: value for s, value in zip(self.weight_indices, role.index) if isinstance(s, sympy.Symbol)}
        if self.positions_summed:
            general = sympy.Sum(general, *self.positions_summed)
        return RolledForm(graph.loss_symbol, wrt, general, graph.loss_symbol, wrt.subs(point),
                          general.subs(point), self.arrays)


def _rolled_layer(net, index: int) -> _RolledLayer:
    return net.inspection_cache.get(f"rolled_{index}", lambda: _RolledLayer(net.graph, index))


def rolled_form(net, of, wrt=None) -> RolledForm:
    """``of`` (or d``of``/d``wrt``) written once for all positions, as sums with index ranges.

    ``of`` is a z or a of a conv, pool or dense layer (its definition, or with ``wrt`` one
    of its local partials), or the loss symbol with ``wrt`` a weight or bias (its gradient,
    a sum over the layer's positions).

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> z = net.graph.layer_nodes[1].pre_activations[0, 2, 3]
    >>> form = rolled_form(net, z)
    >>> form.general
    Sum(a__1[c, i + u, j + v]*w__2[f, c, u, v], (c, 0, 0), (u, 0, 4), (v, 0, 4))
    >>> form.expanded() == expanded_form(net, z)
    True

    Parameters: ``net``; ``of`` a named z, a or loss symbol; ``wrt`` optional named scalar.
    """
    graph = net.graph
    of_role = role_of(graph, of, net.inspection_cache)
    if of_role.kind == "loss" and not of_role.adjoint:
        wrt_role = role_of(graph, wrt, net.inspection_cache)
        if wrt_role.kind not in ("weight", "bias") or wrt_role.adjoint:
            raise ValueError(f"the rolled gradient needs a weight or bias, got {wrt}")
        return _rolled_layer(net, wrt_role.node).gradient(graph, wrt_role)
    if of_role.kind not in ("pre_activation", "activation") or of_role.adjoint:
        raise ValueError(f"rolled forms describe a layer's z or a (or the loss), got {of}")
    layer = _rolled_layer(net, of_role.node)
    if wrt is None:
        return layer.definition(of_role)
    return layer.partial(of_role, role_of(graph, wrt, net.inspection_cache), wrt)


def expanded_form(net, of, wrt=None) -> sympy.Expr:
    """The same quantity as :func:`rolled_form`, instantiated from the derived layer templates.

    z: the weighted sum at its position; a: the activation of it (softmax and pooling: in
    their own inputs); with ``wrt``: the local partial; the loss with a weight: the gradient
    (:func:`symcnn.chainrule.gradient_expression`).

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> a = net.graph.layer_nodes[0].outputs[0, 0, 0]
    >>> expanded_form(net, a, net.graph.layer_nodes[0].pre_activations[0, 0, 0])
    a__1_0_0_0*(1 - a__1_0_0_0)

    Parameters: as :func:`rolled_form`.
    """
    graph = net.graph
    of_role = role_of(graph, of, net.inspection_cache)
    if of_role.kind == "loss":
        return gradient_expression(graph, wrt)
    node, position = graph.nodes[of_role.node], of_role.index
    if wrt is None:
        if of_role.kind == "pre_activation":
            return node.weighted_sum_at(position)
        output = node.output_at(position)
        if node.pre_activations is not None and is_elementwise(node.layer.activation):
            output = output.xreplace({node.pre_activations[position]: node.weighted_sum_at(position)})
        return output
    stage = "weighted_sum" if of_role.kind == "pre_activation" else "output"
    return local_partials(node, position, wrt=[wrt])[stage].get(wrt, sympy.S.Zero)
