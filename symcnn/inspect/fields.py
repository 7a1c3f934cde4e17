"""Receptive fields and saliency: which pixels a scalar depends on, and how much each one moves it.

>>> import symcnn as sc
>>> net = sc.presets.network_a()
>>> int(receptive_field(net, net.graph.layer_nodes[0].outputs[0, 0, 0]).sum())  # a 3 x 3 kernel
9
"""

from __future__ import annotations

import numpy as np

from ..activations import is_elementwise
from ..chainrule import backpropagate
from ..checks import as_expression, check_bool
from ..differentiate import local_partials
from ..roles import find_role, numbered_layers, role_of
from .values import Trace, inspection_evaluator, torch_layout


def dependency_marks(graph, symbols, cache=None):
    """Which pixels and which layer outputs the named scalars ``symbols`` depend on, transitively.

    Returns (pixel mask, {node index: mask over its outputs}). Adjoint symbols, weights and
    targets are values given to an expression, not followed.

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> pixels, marks = dependency_marks(net.graph, [net.graph.layer_nodes[1].outputs[0, 0, 0]])
    >>> int(pixels.sum()), int(marks[0].sum()), int(marks[1].sum())  # 5 x 5 of conv1 read 7 x 7 pixels
    (49, 25, 1)

    Parameters: ``graph``; ``symbols`` named scalars; ``cache`` (unused: roles are read from the names).
    """
    pixels = np.zeros(graph.input_shape, dtype=bool)
    marks = {i: np.zeros(node.output_shape, dtype=bool) for i, node in numbered_layers(graph)}
    whole_layer = set()  # softmax layers one of whose outputs is needed
    last = len(graph.nodes) - 1
    for symbol in symbols:
        role = find_role(graph, symbol)
        if role is None or role.adjoint:
            continue
        if role.kind == "input":
            pixels[role.index] = True
        elif role.kind == "loss":
            marks[last][...] = True
            whole_layer.add(last)
        elif role.kind in ("activation", "pre_activation"):
            marks[role.node][role.index] = True
            if role.kind == "activation" and not is_elementwise(graph.nodes[role.node].layer.activation):
                whole_layer.add(role.node)
    for i, node in reversed(numbered_layers(graph)):
        if i in whole_layer:
            marks[i][...] = True
        for position in zip(*np.nonzero(marks[i])):
            for symbol in node.substitution(position).values():
                role = find_role(graph, symbol)
                if role is None:
                    continue
                if role.kind == "input":
                    pixels[role.index] = True
                elif role.kind == "activation":
                    marks[role.node][role.index] = True
    return pixels, marks


def receptive_field(net, expression) -> np.ndarray:
    """Which input pixels appear in ``expression``, through the named layers (a boolean image).

    Adjoint symbols dL/da stand for numbers given by backpropagation and are not followed;
    for a weight's gradient the field is that of the activations its terms read.

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> field = receptive_field(net, net.graph.layer_nodes[2].outputs[0, 0, 0])
    >>> field.shape, int(field.sum())  # 3 + 5 + 7 - 2 = 13 pixels wide
    ((1, 27, 27), 169)

    Parameters: ``net``; ``expression`` a sympy expression or symbol.
    """
    return dependency_marks(net.graph, as_expression(expression).free_symbols, net.inspection_cache)[0]


def saliency(net, x, of=None, y=None, times_input=False) -> np.ndarray:
    """How much each input pixel moves ``of``: d``of``/dx at one image, an image-shaped array.

    ``of`` is a z or a of any layer, or None (or the loss symbol) for dL/dx, which needs
    ``y``. ``times_input=True`` gives gradient x input. Computed by the fast path's backward
    pass started at ``of`` with the derived local partials.

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> image = np.linspace(0, 1, 729).reshape(1, 27, 27)
    >>> a = net.graph.layer_nodes[2].outputs[0, 0, 0]
    >>> map_ = saliency(net, image, a)
    >>> bool(np.all((map_ != 0) <= receptive_field(net, a)))
    True

    Parameters: ``net``; ``x`` one image; ``of`` a named scalar or None; ``y``; ``times_input``.
    """
    graph = net.graph
    times_input = check_bool(times_input, "saliency: times_input")
    if of is None or of == graph.loss_symbol:
        trace = Trace(net, x, y)
        if len(trace.inputs) != 1:
            raise ValueError("saliency is computed for one image")
        result = trace.input_gradient[0]
    else:
        result, trace = _activation_saliency(net, x, of)
    return result * trace.inputs[0] if times_input else result


def _activation_saliency(net, x, of):
    graph = net.graph
    role = role_of(graph, of, net.inspection_cache)
    if role.adjoint or role.kind not in ("activation", "pre_activation"):
        raise ValueError(f"saliency is taken of a layer's z or a (or the loss), got {of}")
    trace = Trace(net, x)
    if len(trace.inputs) != 1:
        raise ValueError("saliency is computed for one image")
    node = graph.nodes[role.node]
    if role.kind == "pre_activation" or node.pre_activations is None:
        seed = {of: 1.0}  # the backward pass of a conv/dense layer starts at its z, of a pool at its output
    else:  # d of / dz_j, from the derived local partials (all z of a softmax)
        partials = local_partials(node, role.index, wrt=[node.pre_activations[role.index]])["output"]  # a softmax: all z
        seed = dict(zip(partials, np.atleast_1d(trace.evaluate(list(partials.values())))))
    seed_map = np.zeros((1, *node.output_shape))
    for symbol, value in seed.items():
        seed_map[(0, *role_of(graph, symbol, net.inspection_cache).index)] = value
    compiled, _ = inspection_evaluator(net)
    keys = [key for i, n in numbered_layers(graph) if i <= role.node for key in n.parameter_keys().values()]
    adjoints = {}
    # the stages of the one-image plan the trace ran (its caches are copies, so the buffers may be reused)
    backpropagate(compiled.plan(1).stages[:role.node + 1], trace.caches[:role.node + 1], seed_map.reshape(1, -1),
                  {key: trace.params[key] for key in keys}, adjoints)
    return torch_layout(adjoints["input"])[0], trace
