"""Rewrites of a layer's weighted sum read off its rolled (indexed) form: sums that can be taken first.

A weighted sum z = sum over (summed indices) of w[...] x[...] whose weight entry does not
depend on some summed index c has the weight as a common factor of all terms that differ only
in c: sum_{c,u,v} w_{u,v} x_{c,u,v} = sum_{u,v} w_{u,v} (sum_c x_{c,u,v}). Summing the inputs
over c first does the multiplications once instead of once per value of c. Which indices
factor is found from the expression (the indices each entry holds), never from the layer's kind.

>>> import sympy
>>> from symcnn.layers import Conv2D, INDEX
>>> from symcnn.graph import SymbolicGraph
>>> graph = SymbolicGraph((3, 6, 6), [Conv2D(2, 3, shared_channels=True), Conv2D(1, 3)], "mse")
>>> [presummed_axes(node) for node in graph.nodes]
[(0,), ()]
>>> factored_sum(graph.nodes[0])
Sum(w[f, 0, u, v]*Sum(x[c, i + u, j + v], (c, 0, 2)), (u, 0, 2), (v, 0, 2))
"""

from __future__ import annotations

import sympy


def _rolled(node):
    return node.layer.rolled_indexing(node, sympy.IndexedBase("x"), sympy.IndexedBase("w"))


def presummed_axes(node) -> tuple[int, ...]:
    """Axes of the layer's input to sum over before its weighted sum: each carries, alone, a summed
    index that the weight entry does not hold (the weight is a common factor over it)."""
    indexing = _rolled(node)
    if indexing.w_entry is None or indexing.x_entry is None:
        return ()
    weight_indices = set().union(*(i.free_symbols for i in indexing.w_entry.indices))
    axes = []
    for index, _, _ in indexing.summed:
        if index in weight_indices:
            continue
        holding = [axis for axis, entry in enumerate(indexing.x_entry.indices)
                   if index in entry.free_symbols]
        if len(holding) == 1 and indexing.x_entry.indices[holding[0]] == index:
            axes.append(holding[0])
    return tuple(sorted(axes))


def factored_sum(node) -> sympy.Expr:
    """The layer's weighted sum (without bias) in rolled form, with the presummed indices summed inside."""
    indexing = _rolled(node)
    inner = {indexing.x_entry.indices[axis] for axis in presummed_axes(node)}
    inside = [limits for limits in indexing.summed if limits[0] in inner]
    outside = [limits for limits in indexing.summed if limits[0] not in inner]
    summed_input = sympy.Sum(indexing.x_entry, *inside) if inside else indexing.x_entry
    return sympy.Sum(indexing.w_entry * summed_input, *outside)
