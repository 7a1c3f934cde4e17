"""Where every named scalar lives (its kind, layer and index) and renaming between naming schemes.

Below the inspection and display code: both use it, it uses only the naming rules.

>>> import symcnn as sc
>>> net = sc.presets.network_a()
>>> role_of(net.graph, net.graph.loss_symbol)
ScalarRole(kind='loss', node=None, index=(), key=None, adjoint=False)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import sympy

from .checks import as_expression
from .naming import NamedScalar, adjoint_symbol, make_symbol, parse_name


def numbered_layers(graph) -> list:
    """(index in graph.nodes, node) of every numbered layer (every layer but flatten).

    >>> import symcnn as sc
    >>> [index for index, _ in numbered_layers(sc.presets.network_a().graph)]
    [0, 1, 2, 4]
    """
    return [(i, node) for i, node in enumerate(graph.nodes) if node.number is not None]


def previous_layer(graph, index: int) -> int | None:
    """Index of the numbered layer whose outputs node ``index`` reads (None: the pixels).

    >>> import symcnn as sc
    >>> graph = sc.presets.network_a().graph
    >>> previous_layer(graph, 0), previous_layer(graph, 4)
    (None, 2)
    """
    earlier = [i for i, _ in numbered_layers(graph) if i < index]
    return earlier[-1] if earlier else None


@dataclass(frozen=True)
class ScalarRole:
    """What a named scalar is and where it lives; ``adjoint`` marks the symbol of dL/d(it).

    ``node`` is its layer's index in ``graph.nodes`` (None for pixels, targets and the
    loss), ``index`` its place in its array (PyTorch layout), ``key`` the parameter key of
    a weight or bias.
    """

    kind: str
    node: int | None
    index: tuple
    key: str | None = None
    adjoint: bool = False



def scalar_roles(graph, cache=None) -> dict:
    """{symbol: ScalarRole} for every named scalar of ``graph`` and for its adjoint symbol.

    This makes every symbol of the network; to look one up, :func:`role_of` reads it from the
    name instead.

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> scalar_roles(net.graph)[net.weight_symbols("conv2.weight")[0, 0, 1, 2]]
    ScalarRole(kind='weight', node=1, index=(0, 0, 1, 2), key='conv2.weight', adjoint=False)

    Parameters: ``graph`` (a :class:`symcnn.graph.SymbolicGraph`); ``cache`` where to keep
    the table (a network's ``inspection_cache``; None: built afresh on every call).
    """
    if cache is None:
        return _built_roles(graph)
    return cache.get("roles", lambda: _built_roles(graph))


def _arrays(graph):
    """(kind, node index, parameter key, symbol array) of every array of named scalars but the loss."""
    yield "input", None, None, graph.input_symbols
    for i, node in numbered_layers(graph):
        for kind, key in node.parameter_keys().items():
            yield kind, i, key, node.weights if kind == "weight" else node.bias
        if node.pre_activations is not None:
            yield "pre_activation", i, None, node.pre_activations
        yield "activation", i, None, node.outputs
    yield "target", None, None, graph.target_symbols


def _built_roles(graph) -> dict:
    roles = {}
    for kind, node, key, array in _arrays(graph):
        for index in np.ndindex(*array.shape):
            roles[array[index]] = ScalarRole(kind, node, index, key)
    roles[graph.loss_symbol] = ScalarRole("loss", None, ())
    for symbol, role in list(roles.items()):
        roles[adjoint_symbol(symbol)] = replace(role, adjoint=True)
    return roles


def find_role(graph, symbol) -> ScalarRole | None:
    """The :class:`ScalarRole` of ``symbol``, read from its name (no other symbol is made); None
    if it is not one of the network's scalars or their adjoints.

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> find_role(net.graph, net.graph.layer_nodes[3].outputs[0])
    ScalarRole(kind='activation', node=4, index=(0,), key=None, adjoint=False)
    >>> find_role(net.graph, sympy.Symbol("w")) is None
    True
    """
    if not isinstance(symbol, sympy.Symbol):
        return None
    adjoint = symbol.name.startswith("g___")
    plain = NamedScalar(symbol.name[len("g___"):]) if adjoint else symbol
    if adjoint and adjoint_symbol(plain) != symbol:
        return None
    if plain == graph.loss_symbol:
        return ScalarRole("loss", None, (), adjoint=adjoint)
    try:
        name = parse_name(plain.name)
    except ValueError:
        return None
    for kind, node, key, array in _arrays(graph):
        if kind != name.kind or (node is not None and graph.nodes[node].number != name.layer):
            continue  # the name says which array it can be in
        index = array.index_of(plain)
        if index is not None:
            return ScalarRole(kind, node, index, key, adjoint)
    return None


def role_of(graph, symbol, cache=None) -> ScalarRole:
    """The :class:`ScalarRole` of ``symbol``; a ``ValueError`` if it is not one of the network's scalars.

    >>> import symcnn as sc
    >>> role_of(sc.presets.network_a().graph, "x")
    Traceback (most recent call last):
    ...
    ValueError: x is not a named scalar of this network

    Parameters: ``graph``; ``symbol``; ``cache`` (unused: kept for callers that pass the
    network's ``inspection_cache``; the role is read from the name).
    """
    role = find_role(graph, symbol)
    if role is None:
        raise ValueError(f"{symbol} is not a named scalar of this network")
    return role


def renamed(graph, expression, scheme: str, cache=None):
    """``expression`` with every named scalar renamed to naming ``scheme`` (``"symcnn"``/``"r"``).

    The names come from :func:`symcnn.naming.make_symbol`, from each scalar's kind, layer,
    indices and array shape, so a network built with one scheme can be shown in the other.

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> w, x = net.weight_symbols("conv1.weight")[0, 0, 0, 2], net.graph.input_symbols[0, 0, 4]
    >>> renamed(net.graph, w * x, "r")
    inp_5*l1m1w3

    Parameters: ``graph``; ``expression`` (a sympy expression or symbol); ``scheme``;
    ``cache`` (unused, as for :func:`role_of`).
    """
    mapping = {}
    expression = as_expression(expression)
    for symbol in expression.free_symbols:
        role = find_role(graph, symbol)
        if role is None:
            continue
        mapping[symbol] = _renamed_symbol(graph, role, scheme)
    return expression.xreplace(mapping)


def _renamed_symbol(graph, role: ScalarRole, scheme: str):
    if role.adjoint:
        return adjoint_symbol(_renamed_symbol(graph, replace(role, adjoint=False), scheme))
    node = graph.nodes[role.node] if role.node is not None else None
    layer = node.number if node is not None else None
    arrays = {"input": graph.input_symbols, "target": graph.target_symbols}
    if node is not None:
        arrays.update(weight=node.weights, bias=node.bias, pre_activation=node.pre_activations,
                      activation=node.outputs)
    shape = arrays[role.kind].shape if role.kind in arrays else ()
    dense = node is not None and node.has_units
    return make_symbol(scheme, role.kind, layer, role.index, shape, dense)

