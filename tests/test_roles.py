"""Where every named scalar lives and renaming between schemes (symcnn/roles.py)."""

import pytest
import sympy

import symcnn as sc
from symcnn.inspect import InspectionCache
from symcnn.naming import adjoint_symbol
from symcnn.roles import numbered_layers, previous_layer, renamed, role_of, scalar_roles


@pytest.fixture(scope="module")
def net():
    return sc.presets.network_c()


def test_every_named_scalar_and_its_adjoint_has_a_role(net):
    graph = net.graph
    roles = scalar_roles(graph)
    pool = graph.nodes[1]
    assert roles[pool.outputs[2, 1, 0]] == sc.inspect.ScalarRole("activation", 1, (2, 1, 0))
    assert roles[adjoint_symbol(graph.loss_symbol)].adjoint
    assert roles[graph.nodes[-1].bias[3]].key == "dense3.bias"
    assert len(roles) == 2 * len({s for s in roles if not roles[s].adjoint})


def test_layers_are_numbered_past_flatten(net):
    assert [i for i, _ in numbered_layers(net.graph)] == [0, 1, 3]
    assert [previous_layer(net.graph, i) for i in (0, 1, 3)] == [None, 0, 1]


def test_a_cache_keeps_the_roles_built_once(net):
    cache = InspectionCache()
    assert scalar_roles(net.graph, cache) is scalar_roles(net.graph, cache)
    assert cache.names() == ["roles"]
    with pytest.raises(ValueError, match="is not a named scalar of this network"):
        role_of(net.graph, sympy.Symbol("q"), cache)


def test_renaming_round_trips_between_the_schemes():
    ours, theirs = sc.presets.network_a(), sc.presets.network_a(naming="r")
    w = ours.weight_symbols("dense4.weight")[0, 17]
    assert renamed(ours.graph, w, "r") == theirs.weight_symbols("dense4.weight")[0, 17]
    assert renamed(theirs.graph, renamed(ours.graph, w, "r"), "symcnn") == w
    assert ours.renamed(w, "r") == renamed(ours.graph, w, "r", ours.inspection_cache)
