"""Sizes and costs: operation counts per layer, and the nested (pasted-in) expression and its budget.

>>> import symcnn as sc
>>> f"{nested_size(sc.presets.network_a()):,}"
'11,070,008'
"""

from __future__ import annotations

import numpy as np
import sympy

from ..activations import is_elementwise
from ..chainrule import gradient_expression
from ..checks import check_bool, check_int
from ..differentiate import local_partials
from ..roles import numbered_layers
from .fields import dependency_marks

#: Building a nested (pasted-in) expression stops before it starts beyond this many operations.
DEFAULT_MAX_NESTED_OPS = 200_000


def _patterns(net, index: int) -> dict:
    """Positions of a layer grouped by the shape of their instantiated template.

    {key: [count, a representative position]}; positions differ only in which patch entries
    fall into the zero padding (a softmax output is its own group).
    """
    def build():
        node = net.graph.nodes[index]
        groups = {}
        for position in node.positions():
            mapping = node.substitution(position)
            key = tuple(mapping[xi] == 0 for xi in node.template.patch.flat)
            if not is_elementwise(node.layer.activation):
                key += position
            groups.setdefault(key, [0, position])[0] += 1
        return groups

    return net.inspection_cache.get(f"patterns_{index}", build)


def _local_expressions(node, position) -> list:
    """The expressions one output position adds to the graph: z (conv/dense) and a, each in
    the named scalars one step before it."""
    expressions = [node.output_at(position)]
    if node.pre_activations is not None:
        expressions.insert(0, node.weighted_sum_at(position))
    return expressions


def layer_costs(net, gradients: bool = True) -> list:
    """Per layer: positions, symbols, and sympy operation counts of its expressions and partials.

    ``forward_ops`` counts the ops of every z and a of the layer (each in the named scalars
    one step before), ``local_partials`` the instantiated partials and ``partial_ops`` their
    ops, ``gradient_ops`` the ops of one weight's gradient expression (``gradients=True``).

    >>> import symcnn as sc
    >>> rows = layer_costs(sc.presets.network_a(), gradients=False)
    >>> [(row["layer"], row["positions"], row["local_partials"]) for row in rows]
    [('conv1', 625, 11875), ('conv2', 441, 22491), ('conv3', 225, 22275), ('dense4', 1, 451)]

    Parameters: ``net``; ``gradients`` whether to build one gradient expression per layer.
    """
    gradients = check_bool(gradients, "layer_costs: gradients")
    graph = net.graph
    rows = []
    for i, node in numbered_layers(graph):
        forward = partial_count = partial_ops = 0
        for count, position in _patterns(net, i).values():
            forward += count * sympy.count_ops(_local_expressions(node, position))
            entries = [p for stage in local_partials(node, position).values() for p in stage.values()]
            partial_count += count * len(entries)
            partial_ops += count * sympy.count_ops(entries)
        arrays = [node.outputs, node.pre_activations, node.weights, node.bias]
        row = {"layer": node.name, "positions": int(np.prod(node.output_shape)),
               "symbols": sum(a.size for a in arrays if a is not None), "forward_ops": int(forward),
               "local_partials": int(partial_count), "partial_ops": int(partial_ops)}
        if gradients and node.weights is not None:
            row["gradient_ops"] = int(sympy.count_ops(gradient_expression(graph, node.weights.flat[0])))
        rows.append(row)
    return rows


def _occurrences(expression) -> dict:
    """{symbol: how often it occurs in the expression tree} (what pasting multiplies)."""
    counts = {}
    for part in sympy.preorder_traversal(expression):
        if isinstance(part, sympy.Symbol):
            counts[part] = counts.get(part, 0) + 1
    return counts


def _nested_sizes(net) -> dict:
    """{named z, a and the loss: sympy ops of its nested expression, earlier layers pasted in}.

    Pasting an expression of n ops for each occurrence of a symbol adds n ops per occurrence
    (count_ops counts the expression tree), so the sizes follow layer by layer from each
    position's own expression, without building anything.
    """
    graph = net.graph

    def build():
        sizes = {}
        for i, node in numbered_layers(graph):
            template_shapes = {}
            for position in node.positions():
                mapping = node.substitution(position)
                key = tuple(mapping[xi] == 0 for xi in node.template.patch.flat)
                if key not in template_shapes:  # ops and occurrences of the template with its zeros
                    zeros = {xi: sympy.S.Zero for xi, zero in zip(node.template.patch.flat, key) if zero}
                    local = (node.template.expanded_weighted_sum() if node.pre_activations is not None
                             else node.template.output).xreplace(zeros)
                    template_shapes[key] = (sympy.count_ops(local), _occurrences(local))
                ops, occurrences = template_shapes[key]
                pasted = sum(count * sizes.get(mapping[xi], 0) for xi, count in occurrences.items()
                             if xi in mapping and isinstance(mapping[xi], sympy.Symbol))
                if node.pre_activations is None:
                    sizes[node.outputs[position]] = ops + pasted
                else:
                    sizes[node.pre_activations[position]] = ops + pasted
            if node.pre_activations is None:
                continue
            for position in node.positions():
                output = node.output_at(position)
                sizes[node.outputs[position]] = sympy.count_ops(output) + sum(
                    count * sizes.get(symbol, 0) for symbol, count in _occurrences(output).items())
        sizes[graph.loss_symbol] = sympy.count_ops(graph.loss_expression) + sum(
            count * sizes.get(symbol, 0) for symbol, count in _occurrences(graph.loss_expression).items())
        return sizes

    return net.inspection_cache.get("nested_sizes", build)


def nested_size(net, symbol=None) -> int:
    """The sympy op count of ``symbol``'s nested expression (default: the loss), estimated exactly
    from each layer's own expressions, without building it.

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> f"{nested_size(net):,}"  # the loss with every layer pasted in, the R walkthrough's way
    '11,070,008'

    Parameters: ``net``; ``symbol`` a named z or a, or None for the loss.
    """
    symbol = net.graph.loss_symbol if symbol is None else symbol
    size = _nested_sizes(net).get(symbol)
    if size is None:
        raise ValueError(f"{symbol} is not a z, a or the loss of this network")
    return int(size)


def nested_expression(net, symbol=None, max_ops: int = DEFAULT_MAX_NESTED_OPS) -> sympy.Expr:
    """``symbol`` (default: the loss) as one expression in pixels and weights, earlier layers pasted in.

    This is how the R walkthrough builds its network; its size grows multiplicatively with
    depth. The size is estimated first (:func:`nested_size`): beyond ``max_ops`` operations a
    ``ValueError`` says how big it would be, instead of building for hours.

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> expression = nested_expression(net, net.graph.layer_nodes[0].outputs[0, 0, 0])
    >>> sorted(s.name for s in expression.free_symbols)[:3]
    ['w__1_0_0_0_0', 'w__1_0_0_0_1', 'w__1_0_0_0_2']
    >>> nested_expression(net, max_ops=1_000_000)
    Traceback (most recent call last):
    ...
    ValueError: the nested expression of L would have about 11,070,008 operations, more than max_ops=1,000,000; ...

    Parameters: ``net``; ``symbol`` a named z or a, or None for the loss; ``max_ops``.
    """
    graph = net.graph
    symbol = graph.loss_symbol if symbol is None else symbol
    estimate = nested_size(net, symbol)
    if estimate > max_ops:
        raise ValueError(f"the nested expression of {symbol} would have about {estimate:,} operations, "
                         f"more than max_ops={max_ops:,}; inspect it layer by layer (rolled_form, ledger) "
                         "or pass a larger max_ops if you have the time")
    _, marks = dependency_marks(graph, [symbol], net.inspection_cache)
    nested = {}
    for i, node in numbered_layers(graph):
        for position in zip(*np.nonzero(marks[i])):
            if node.pre_activations is not None:
                z = node.pre_activations[position]
                nested[z] = node.weighted_sum_at(position).xreplace(nested)
            nested[node.outputs[position]] = node.output_at(position).xreplace(nested)
    if symbol == graph.loss_symbol:
        return graph.loss_expression.xreplace(nested)
    return nested[symbol]


def growth_table(net, max_ops: int = DEFAULT_MAX_NESTED_OPS, measure_up_to: int = 5_000) -> list:
    """Why layer-by-layer wins: op counts by depth, layer by layer versus nested (pasted in).

    One row per layer and one for the loss: ``layer_by_layer_ops`` (every expression and
    local partial up to that depth, cumulative: grows linearly), ``nested_ops`` (the largest
    single output's nested expression) and ``nested_ops_all`` (all outputs of that depth),
    both estimated. Where the largest output's estimate is at most ``measure_up_to`` it is
    built and counted (``built_ops``), and differentiated by the first weight of the first
    layer (``derivative_ops``), as R's ``deriv()`` would.

    >>> import symcnn as sc
    >>> rows = growth_table(sc.presets.network_a())
    >>> [(row["layer"], row["nested_ops"]) for row in rows]
    [('conv1', 18), ('conv2', 500), ('conv3', 24598), ('dense4', 5535000), ('loss', 11070008)]
    >>> rows[1]["built_ops"] == rows[1]["nested_ops"]
    True

    Parameters: ``net``; ``max_ops`` passed to :func:`nested_expression`; ``measure_up_to``.
    """
    max_ops = check_int(max_ops, "growth_table: max_ops")
    measure_up_to = check_int(measure_up_to, "growth_table: measure_up_to", minimum=0)
    graph = net.graph
    sizes = _nested_sizes(net)
    first_weight = graph.layer_nodes[0].weights.flat[0]
    rows, cumulative = [], 0
    layers = [(node.name, list(node.outputs.flat)) for _, node in numbered_layers(graph)]
    costs = layer_costs(net, gradients=False) + [{"forward_ops": 0, "partial_ops": 0}]
    for (name, symbols), cost in zip(layers + [("loss", [graph.loss_symbol])], costs):
        cumulative += cost["forward_ops"] + cost["partial_ops"]
        largest = max(symbols, key=lambda s: sizes[s])
        row = {"layer": name, "layer_by_layer_ops": int(cumulative), "nested_ops": int(sizes[largest]),
               "nested_ops_all": int(sum(sizes[s] for s in symbols)), "built_ops": None, "derivative_ops": None}
        if sizes[largest] <= measure_up_to:
            expression = nested_expression(net, largest, max_ops)
            row["built_ops"] = int(sympy.count_ops(expression))
            row["derivative_ops"] = int(sympy.count_ops(sympy.diff(expression, first_weight)))
        rows.append(row)
    return rows
