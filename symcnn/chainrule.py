"""The chain rule: upstream gradient times local partial, summed, numerically and symbolically.

dL/dw = sum over the output positions p that use w of dL/da_p * da_p/dz_p * dz_p/dw.

>>> from symcnn.graph import SymbolicGraph
>>> from symcnn.layers import Conv2D, Dense, Flatten
>>> graph = SymbolicGraph((1, 3, 3), [Conv2D(1, 2, activation="sigmoid", bias=False),
...                                   Flatten(), Dense(1, activation="sigmoid", bias=False)], "bce")
>>> weight = graph.layer_nodes[0].weights[0, 0, 1, 1]
>>> expression = gradient_expression(graph, weight)
>>> len(expression.args)  # one term per output position of the 2x2 map
4
>>> sorted(expression.args, key=str)[0]
a__1_0_0_0*g___a__1_0_0_0*x_0_1_1*(1 - a__1_0_0_0)
"""

from __future__ import annotations

import numpy as np
import sympy

from .activations import is_elementwise
from .differentiate import local_partials, output_partial
from .naming import adjoint_symbol


def accumulate(adjoints: dict, output, partials: dict) -> None:
    """adjoint[s] += adjoint[output] * d output / d s for every s in ``partials`` (in place)."""
    upstream = adjoints.get(output, 0.0)
    for symbol, partial in partials.items():
        adjoints[symbol] = adjoints.get(symbol, 0.0) + upstream * partial


def backpropagate(layers, caches, logit_gradient, params, adjoints=None, gradients=None) -> dict:
    """dL/dparameter for every parameter, from dL/d(last logits), layer by layer in reverse.

    ``layers`` are the compiled kernels of :mod:`symcnn.evaluate` (or one batch size's stages of
    them, :class:`symcnn.plan.StepPlan`) with their forward ``caches`` (cache, z, a). Per layer:
    dL/dz = dL/da * da/dz (the compiled activation partial), then dL/dw = sum over positions of
    dL/dz * dz/dw and dL/dx likewise (the compiled contractions). The last layer's dL/dz is given: the loss was joined with its
    activation. A dict ``adjoints`` also receives what flows on the way (layouts as cached):
    ``adjoints[index] = {"a": dL/da, "z": dL/dz}`` (the last layer has only "z"; for pooling
    and flatten both are dL/d output) and ``adjoints["input"]`` = dL/dx (None unless the
    first layer computes it). ``gradients``: {key: array} to write each dL/dparameter into (a
    step plan's buffers); None makes new arrays.
    """
    gradients = {} if gradients is None else gradients
    upstream = logit_gradient
    for index in range(len(layers) - 1, -1, -1):
        layer, (cache, z, a) = layers[index], caches[index]
        if adjoints is not None and index < len(layers) - 1:
            adjoints[index] = {"a": upstream}
        if index == len(layers) - 1:
            upstream = _as_map(upstream, z)
        elif layer.activation is not None:
            upstream = layer.activation.backward(upstream, z, a)
        if adjoints is not None:
            adjoints.setdefault(index, {})["z"] = upstream
        upstream = layer.backward(upstream, cache, params, gradients)
    if adjoints is not None:
        adjoints["input"] = upstream
    return gradients


def _as_map(logit_gradient, z):
    """(N, K) gradient of the flat logits -> the layout of the last layer's z."""
    if z.ndim == 2:
        return logit_gradient
    n, h, w, f = z.shape  # channels-last conv map; logits are in (f, h, w) order
    return logit_gradient.reshape(n, f, h, w).transpose(0, 2, 3, 1)


def _node_of(graph, weight):
    for node in graph.layer_nodes:
        for array in (node.weights, node.bias):
            if array is not None:
                index = array.index_of(weight)
                if index is not None:
                    return node, index
    raise ValueError(f"{weight} is not a weight or bias of this network")


def gradient_terms(graph, weight):
    """The chain-rule terms of dLoss/d``weight``, one per output position p that uses it.

    Yields (p, factors) with factors [(of, wrt, formula), ...] from the loss down: (L, a_p, dL/da_p)
    and (a_p, z_p, da_p/dz_p), or after a softmax the one (L, z_p, sum_m dL/da_m da_m/dz_p), then
    (z_p, w, dz_p/dw); every formula from the derived local partials, dL/da as adjoint symbols.
    """
    node, index = _node_of(graph, weight)
    for position in node.positions():
        if position[0] != index[0]:  # a filter's (unit's) weights only reach its own outputs
            continue
        z, a = node.pre_activations[position], node.outputs[position]
        partials = local_partials(node, position, wrt=(weight, z))
        weight_partial = partials["weighted_sum"].get(weight, sympy.S.Zero)
        if weight_partial == 0:
            continue
        if not is_elementwise(node.layer.activation):  # every output of a softmax depends on every z
            upstream = sympy.Add(*[adjoint_symbol(node.outputs[other]) * output_partial(node, other, position)
                                   for other in node.positions()])
            factors = [(graph.loss_symbol, z, upstream)]
        else:
            factors = [(graph.loss_symbol, a, adjoint_symbol(a)), (a, z, partials["output"][z])]
        yield position, factors + [(z, weight, weight_partial)]


def gradient_expression(graph, weight) -> sympy.Expr:
    """dLoss/d``weight`` as a sum over positions, in named symbols.

    Each term is dL/da_p (an adjoint symbol, rendered as a fraction) times da_p/dz_p times
    dz_p/dw (:func:`gradient_terms`), with every factor taken from the derived local partials.
    """
    # each term one product of its factors (one flattening, not two: a conv weight has a term per position)
    return sympy.Add(*[sympy.Mul(*[formula for _, _, formula in factors])
                       for _, factors in gradient_terms(graph, weight)])
