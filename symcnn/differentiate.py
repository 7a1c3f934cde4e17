"""Local partial derivatives, derived with sympy once per layer template and instantiated per position.

A convolution shares its weights over all output positions, so the partials of one generic
output scalar (the template) are derived once; the partials at any position are the
template partials with the generic symbols replaced by that position's named scalars.

>>> from symcnn.layers import Conv2D
>>> template = derive_template(Conv2D(1, 2, activation="sigmoid", bias=False).template((1, 3, 3)))
>>> template.partials["weighted_sum"][template.kernel[0, 0, 1]]
xi_0_0_1
>>> template.partials["output"]
{zeta: alpha*(1 - alpha)}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import numpy as np
import sympy

from .activations import activation_function, is_elementwise
from .functions import LogSumExp, Sigmoid
from .layers import ALPHA, ZETA, LayerTemplate, template_entries
from .losses import loss_of_logits, output_probabilities


def partials_of(expression: sympy.Expr, symbols) -> dict:
    """d expression / d s for every s in ``symbols``, differentiating each term only once.

    ``sympy.diff`` of a sum visits every term for every symbol (quadratic in the number of
    terms); here each term of a top-level sum is differentiated only by the symbols it holds.

    >>> x, y, w = sympy.symbols("x y w")
    >>> partials_of(w * x + w**2 * y + 3, [w, x])
    {w: 2*w*y + x, x: w}
    """
    terms = expression.args if isinstance(expression, sympy.Add) else (expression,)
    terms_holding = defaultdict(list)
    wanted = set(symbols)
    for term in terms:
        for symbol in term.free_symbols & wanted:
            terms_holding[symbol].append(term)
    return {symbol: sympy.Add(*[term.diff(symbol) for term in terms_holding[symbol]])
            for symbol in symbols}


class TemplatePartials(Mapping):
    """The derived partials of an indexed weighted sum: stated once at the generic index, read per entry.

    ``generic`` holds what sympy derived: d zeta / d omega[k] and d zeta / d xi[k] at the
    generic index k (an ``Idx`` over the patch's ranges) and d zeta / d beta. As a mapping it
    gives the partial by every template symbol (omega_0_1_2 -> xi_0_1_2): the generic partial
    at that index, made when first asked for.
    """

    def __init__(self, template: LayerTemplate, generic: dict):
        self.template, self.generic = template, generic
        self._made = {}

    def _keys(self):
        yield from self.template.kernel.flat
        yield from self.template.patch.flat
        if self.template.bias is not None:
            yield self.template.bias

    def __iter__(self):
        return self._keys()

    def __len__(self) -> int:
        return self.template.kernel.size + self.template.patch.size + (self.template.bias is not None)

    def __getitem__(self, symbol):
        partial = self._made.get(symbol)
        if partial is None:
            partial = self._made[symbol] = self._entry_partial(symbol)
        return partial

    def _entry_partial(self, symbol):
        if symbol == self.template.bias:
            return self.generic[symbol]
        for array, entry in ((self.template.kernel, self.template.generic_kernel_entry),
                             (self.template.patch, self.template.generic_patch_entry)):
            index = array.index_of(symbol) if isinstance(symbol, sympy.Symbol) else None
            if index is not None:
                at = dict(zip(entry.indices, index))
                return template_entries(self.generic[entry].xreplace(at))
        raise KeyError(symbol)


def derive_template(template: LayerTemplate) -> LayerTemplate:
    """Fill ``template.partials`` with its local partials, derived with sympy.

    ``partials["weighted_sum"]``: d zeta / d (each kernel, patch and bias symbol); for an
    indexed sum a :class:`TemplatePartials`, derived once at the generic index (so in a time
    that does not depend on the patch's size); ``partials["output"]``: d alpha / d zeta,
    written in alpha where it can be (e.g. sigma' = alpha (1 - alpha)), or d alpha / d xi for
    each patch symbol of a pooling layer.

    >>> from symcnn.layers import Dense
    >>> derived = derive_template(Dense(1).template((50_000,)))
    >>> derived.partials["weighted_sum"].generic
    {omega[n_1]: xi[n_1], xi[n_1]: omega[n_1], beta: 1}
    """
    if template.partials:
        return template
    if template.weighted_sum is not None and template.generic_index:
        generic = {}
        for entry in (template.generic_kernel_entry, template.generic_patch_entry):
            # d/d omega[k] of sum_j omega[j] xi[j] is sum_j delta_jk xi[j], which doit() sums to xi[k]
            # (for a kernel shared over c: to sum_c xi[c, k])
            generic[entry] = sympy.diff(template.weighted_sum, entry).doit()
        if template.bias is not None:
            generic[template.bias] = sympy.diff(template.weighted_sum, template.bias)
        template.partials["weighted_sum"] = TemplatePartials(template, generic)
    elif template.weighted_sum is not None:  # written out term by term
        symbols = list(template.kernel.flat) + list(template.patch.flat)
        if template.bias is not None:
            symbols.append(template.bias)
        template.partials["weighted_sum"] = partials_of(template.weighted_sum, symbols)
    if template.weighted_sum is not None:
        derivative = sympy.diff(template.output, ZETA)
        template.partials["output"] = {ZETA: derivative.subs(template.output, ALPHA)}
    else:
        template.partials["output"] = partials_of(template.output, list(template.patch.flat))
    return template


def _instantiate_partials(partials: dict, mapping: dict) -> dict:
    """Template partials -> partials w.r.t. named scalars at one position.

    A named scalar that several template symbols map to (a channel-shared kernel weight)
    gets the sum of their partials; symbols mapped to 0 (zero padding) drop out.
    """
    named = {}
    for template_symbol, partial in partials.items():
        target = mapping[template_symbol]
        if isinstance(target, sympy.Symbol):
            value = partial.xreplace(mapping)
            # most targets get one partial; 0 + partial would cost a sympy addition each time
            named[target] = named[target] + value if target in named else value
    return named


def local_partials(node, position, wrt=None) -> dict:
    """The local partials of one layer output scalar, in named scalars.

    Returns ``{"weighted_sum": {named w/x/b: dz/d.}, "output": {named z or x: da/d.}}`` for
    the output at ``position`` of ``node`` (a :class:`symcnn.graph.LayerNode`); with ``wrt``
    (named scalars) only the partials by those are instantiated (a dense unit reads
    every input: asking for one weight's partial need not write out all of them).

    >>> from symcnn.graph import SymbolicGraph
    >>> from symcnn.layers import Conv2D, Dense, Flatten
    >>> graph = SymbolicGraph((1, 3, 3), [Conv2D(1, 2, activation="sigmoid", bias=False),
    ...                                   Flatten(), Dense(1, activation="sigmoid")], "bce")
    >>> partials = local_partials(graph.layer_nodes[0], (0, 1, 0))
    >>> partials["weighted_sum"][graph.layer_nodes[0].weights[0, 0, 0, 1]]
    x_0_1_1
    >>> partials["output"]
    {z__1_0_1_0: a__1_0_1_0*(1 - a__1_0_1_0)}
    >>> softmax = SymbolicGraph((1, 1, 2), [Flatten(), Dense(2, activation="softmax")], "cross_entropy")
    >>> local_partials(softmax.layer_nodes[-1], (0,))["output"]
    {z__1_0: a__1_0*(1 - a__1_0), z__1_1: -a__1_0*a__1_1}
    >>> local_partials(graph.layer_nodes[1], (0,), wrt=[graph.layer_nodes[1].bias[0]])["weighted_sum"]
    {b__2_0: 1}
    """
    derive_template(node.template)
    mapping = node.instantiation(position)
    result = {}

    def chosen(partials):
        if wrt is None:
            return partials
        wanted = set(wrt)
        return {symbol: partials[symbol] for symbol, target in mapping.items()
                if target in wanted and symbol in partials}

    if "weighted_sum" in node.template.partials:
        result["weighted_sum"] = _instantiate_partials(chosen(node.template.partials["weighted_sum"]), mapping)
    if not is_elementwise(node.layer.activation):
        # the activation's own partial d a_k / d z_m, derived once in indexed form, in the outputs a
        outputs, k = list(node.outputs.flat), position[0]
        partial = activation_function(node.layer.activation).partial
        result["output"] = {z: partial(outputs, k, m) for m, z in enumerate(node.pre_activations.flat)}
    else:
        result["output"] = _instantiate_partials(chosen(node.template.partials["output"]), mapping)
    return result


def output_partial(node, position, wrt_position) -> sympy.Expr:
    """d a[position] / d z[wrt_position] in a layer with a weighted sum: one entry of ``local_partials``' "output".

    Only that entry is instantiated: a softmax couples its K outputs, K**2 partials in all.

    >>> from symcnn.graph import SymbolicGraph
    >>> from symcnn.layers import Dense, Flatten
    >>> softmax = SymbolicGraph((1, 1, 2), [Flatten(), Dense(3, activation="softmax")], "cross_entropy")
    >>> output_partial(softmax.layer_nodes[-1], (2,), (0,))
    -a__1_0*a__1_2
    """
    position, wrt_position = tuple(position), tuple(wrt_position)
    if not is_elementwise(node.layer.activation):
        return activation_function(node.layer.activation).partial(node.outputs, position[0], wrt_position[0])
    if position != wrt_position:
        return sympy.S.Zero
    # the template's own da/dzeta at this position: nothing else of the layer is instantiated
    template = derive_template(node.template)
    return template.partials["output"][ZETA].xreplace({ZETA: node.pre_activations[position],
                                                        ALPHA: node.outputs[position]})


def output_errors(graph) -> dict:
    """dL/dz_k of the last layer (Nielsen's output error delta, BP1), written in its outputs a and targets y.

    Derived with sympy from the loss in the logits, then written in the outputs: softmax with
    cross-entropy gives p - t, i.e. a_k - y_k (cross-entropy targets sum to 1, which
    ``Network`` checks), and so does sigmoid with bce.

    >>> from symcnn.graph import SymbolicGraph
    >>> from symcnn.layers import Dense, Flatten
    >>> graph = SymbolicGraph((1, 1, 2), [Flatten(), Dense(3, activation="softmax")], "cross_entropy")
    >>> output_errors(graph)
    {z__1_0: a__1_0 - y_0, z__1_1: a__1_1 - y_1, z__1_2: a__1_2 - y_2}
    """
    logits, outputs, targets = list(graph.logit_symbols), list(graph.output_symbols), list(graph.target_symbols)
    activation = graph.nodes[-1].layer.activation
    written = dict(zip(output_probabilities(activation, logits), outputs))
    if activation == "sigmoid":  # sigma(-z) = 1 - sigma(z), as the stable bce holds it
        written.update({Sigmoid(-z): 1 - a for z, a in zip(logits, outputs)})
    errors = {}
    for logit, partial in partials_of(loss_of_logits(graph.loss, activation, logits, targets), logits).items():
        # log-sum-exp of one logit is that logit (bce after a two-class softmax)
        partial = partial.replace(lambda e: isinstance(e, LogSumExp) and len(e.args) == 1, lambda e: e.args[0])
        partial = partial.xreplace(written)
        collected = sympy.collect(sympy.expand(partial), outputs)  # cancels to a - y where it can
        if graph.loss == "cross_entropy":
            collected = collected.xreplace({sympy.Add(*targets): sympy.S.One})
        shorter = not partial.free_symbols & set(logits) and sympy.count_ops(collected) < sympy.count_ops(partial)
        errors[logit] = collected if shorter else partial
    return errors


def central_differences(function, parameters: dict, epsilon: float = 1e-6) -> dict:
    """Central finite differences (f(p + e) - f(p - e)) / 2e of a scalar function of parameters.

    >>> import numpy as np
    >>> grads = central_differences(lambda p: float((p["w"] ** 2).sum()), {"w": np.array([1.0, -2.0])})
    >>> np.round(grads["w"], 6)
    array([ 2., -4.])
    """
    gradients = {}
    for key, values in parameters.items():
        gradient = np.zeros_like(values, dtype=float)
        for index in np.ndindex(*values.shape):
            shifted = {k: v.copy() for k, v in parameters.items()}
            shifted[key][index] = values[index] + epsilon
            upper = function(shifted)
            shifted[key][index] = values[index] - epsilon
            lower = function(shifted)
            gradient[index] = (upper - lower) / (2 * epsilon)
        gradients[key] = gradient
    return gradients
