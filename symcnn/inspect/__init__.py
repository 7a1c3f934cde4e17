"""Looking at derivatives, one job per module: values of any expression (:mod:`.values`), the
chain-rule ledger (:mod:`.ledgers`), rolled and expanded forms (:mod:`.rolled`), receptive
fields and saliency (:mod:`.fields`), sizes and costs (:mod:`.costs`) and the whole unrolled
view (:mod:`.unrolled`); where each scalar lives and renaming are in :mod:`symcnn.roles`.

Everything is built from the named-scalar graph and the cached template partials (nothing is
derived twice); what is computed once per network is kept in ``net.inspection_cache``
(:class:`.cache.InspectionCache`). Numbers come from the fast evaluator, so networks far too
big to unroll can be inspected too.

>>> import numpy as np, symcnn as sc
>>> net = sc.presets.network_a()
>>> image = np.linspace(0, 1, 729).reshape(1, 27, 27)
>>> weight = net.weight_symbols("conv3.weight")[0, 0, 3, 3]
>>> ledger = net.ledger(image, 1.0, weight)
>>> bool(np.isclose(ledger.total, net.gradients(image, 1.0)["conv3.weight"][0, 0, 3, 3], rtol=1e-9))
True
"""

from ..roles import ScalarRole, renamed, role_of, scalar_roles
from .cache import InspectionCache
from .costs import DEFAULT_MAX_NESTED_OPS, growth_table, layer_costs, nested_expression, nested_size
from .fields import dependency_marks, receptive_field, saliency
from .ledgers import Ledger, LedgerFactor, LedgerTerm, ledger, reader_factors
from .rolled import INDEX, RolledForm, expanded_form, rolled_form
from .unrolled import UnrolledView, unrolled_view
from .values import Trace, evaluate, inspection_evaluator, torch_layout

__all__ = ["DEFAULT_MAX_NESTED_OPS", "INDEX", "InspectionCache", "Ledger", "LedgerFactor", "LedgerTerm", "RolledForm",
           "ScalarRole", "Trace", "UnrolledView", "dependency_marks", "evaluate", "expanded_form", "growth_table",
           "inspection_evaluator", "layer_costs", "ledger", "nested_expression", "nested_size", "receptive_field",
           "reader_factors", "renamed", "role_of", "rolled_form", "saliency", "scalar_roles", "torch_layout",
           "unrolled_view"]
