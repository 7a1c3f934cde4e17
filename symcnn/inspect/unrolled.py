"""The whole unrolled view: every scalar's expression and every local partial, as named sympy expressions.

>>> UnrolledView({}, {"a": {"z": 1, "w": 2}}, 0.5)
UnrolledView(0 expressions, 2 local partials, built in 0.50 s)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..differentiate import local_partials
from ..graph import DEFAULT_MAX_UNROLLED_TERMS


@dataclass
class UnrolledView:
    """Every scalar's expression and every local partial of a network, as named sympy expressions.

    ``expressions``: {named z, a and the loss: expression in the scalars one step before};
    ``partials``: {named z or a: {named scalar: local partial}}; ``seconds`` it took to build.
    """

    expressions: dict
    partials: dict
    seconds: float

    @property
    def partial_count(self) -> int:
        """How many local partials the view holds."""
        return sum(len(partials) for partials in self.partials.values())

    def __repr__(self) -> str:
        return (f"UnrolledView({len(self.expressions):,} expressions, {self.partial_count:,} local partials, "
                f"built in {self.seconds:.2f} s)")


def unrolled_view(net, max_terms: int = DEFAULT_MAX_UNROLLED_TERMS) -> UnrolledView:
    """Every activation expression and every local partial, instantiated from the layer templates.

    The templates are derived once (cached); each position's partials are the template's
    with the generic symbols replaced by that position's named scalars. Network A: about
    2,600 expressions and 57,000 partials in a couple of seconds.

    >>> import symcnn as sc
    >>> view = unrolled_view(sc.presets.network_a())
    >>> len(view.expressions), view.partial_count
    (2585, 57092)

    Parameters: ``net``; ``max_terms`` the size budget of :meth:`SymbolicGraph.unrolled_expressions`.
    """
    started = time.perf_counter()
    graph = net.graph
    expressions = graph.unrolled_expressions(max_terms)
    partials = {}
    for node in graph.layer_nodes:
        for position in node.positions():
            local = local_partials(node, position)
            if node.pre_activations is not None:
                partials[node.pre_activations[position]] = local["weighted_sum"]
            partials[node.outputs[position]] = local["output"]
    return UnrolledView(expressions, partials, time.perf_counter() - started)
