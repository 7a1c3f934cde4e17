"""Looking at derivatives: values of any expression, the chain-rule ledger, rolled and expanded
forms, receptive fields and saliency, sizes and costs, and the whole unrolled view.

Everything is built from the named-scalar graph and the cached template partials (nothing is
derived twice). Numbers come from the fast evaluator: its forward caches give every z and a,
and the gradients it passes back give every dL/da, dL/dz and dL/dx
(:meth:`symcnn.evaluate.CompiledNetwork.trace`), so networks far too big to unroll can be
inspected too.

>>> import numpy as np, symcnn as sc
>>> net = sc.presets.network_a()
>>> image = np.linspace(0, 1, 729).reshape(1, 27, 27)
>>> weight = net.weight_symbols("conv3.weight")[0, 0, 3, 3]
>>> ledger = net.ledger(image, 1.0, weight)
>>> bool(np.isclose(ledger.total, net.gradients(image, 1.0)["conv3.weight"][0, 0, 3, 3], rtol=1e-9))
True
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, replace

import numpy as np
import sympy

from .chainrule import backpropagate, gradient_expression
from .checks import as_expression, check_bool, check_int
from .differentiate import derive_template, local_partials, partials_of
from .evaluate import CompiledNetwork, ReadableOutputAdjoints, compile_expressions
from .graph import DEFAULT_MAX_UNROLLED_TERMS
from .layers import ALPHA, ZETA
from .naming import NamedScalar, adjoint_symbol, make_symbol, parse_name

#: Building a nested (pasted-in) expression stops before it starts beyond this many operations.
DEFAULT_MAX_NESTED_OPS = 200_000


def _cached(graph, name: str, build):
    """A value computed once per graph and kept with it (freed with the graph)."""
    attribute = f"_inspect_{name}"
    if attribute not in vars(graph):
        setattr(graph, attribute, build(graph))
    return getattr(graph, attribute)


def _numbered(graph):
    """(index in graph.nodes, node) of every numbered layer."""
    return [(i, node) for i, node in enumerate(graph.nodes) if node.number is not None]


def _previous_layer(graph, index: int) -> int | None:
    """Index of the numbered layer whose outputs node ``index`` reads (None: the pixels)."""
    earlier = [i for i, _ in _numbered(graph) if i < index]
    return earlier[-1] if earlier else None


# -- where every named scalar lives --------------------------------------------------------
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


def scalar_roles(graph) -> dict:
    """{symbol: ScalarRole} for every named scalar of ``graph`` and for its adjoint symbol.

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> scalar_roles(net.graph)[net.weight_symbols("conv2.weight")[0, 0, 1, 2]]
    ScalarRole(kind='weight', node=1, index=(0, 0, 1, 2), key='conv2.weight', adjoint=False)

    Parameters: ``graph`` (a :class:`symcnn.graph.SymbolicGraph`); computed once per graph.
    """
    def build(graph):
        roles = {}

        def add(array, kind, node=None, key=None):
            for index in np.ndindex(*array.shape):
                roles[array[index]] = ScalarRole(kind, node, index, key)

        add(graph.input_symbols, "input")
        for i, node in _numbered(graph):
            for kind, key in node.parameter_keys().items():
                add(node.weights if kind == "weight" else node.bias, kind, i, key)
            if node.pre_activations is not None:
                add(node.pre_activations, "pre_activation", i)
            add(node.outputs, "activation", i)
        add(graph.target_symbols, "target")
        roles[graph.loss_symbol] = ScalarRole("loss", None, ())
        for symbol, role in list(roles.items()):
            roles[adjoint_symbol(symbol)] = replace(role, adjoint=True)
        return roles

    return _cached(graph, "roles", build)


def _role(graph, symbol) -> ScalarRole:
    role = scalar_roles(graph).get(symbol)
    if role is None:
        raise ValueError(f"{symbol} is not a named scalar of this network")
    return role


def renamed(graph, expression, scheme: str):
    """``expression`` with every named scalar renamed to naming ``scheme`` (``"symcnn"``/``"r"``).

    The names come from :func:`symcnn.naming.make_symbol`, from each scalar's kind, layer,
    indices and array shape, so a network built with one scheme can be shown in the other.

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> w, x = net.weight_symbols("conv1.weight")[0, 0, 0, 2], net.graph.input_symbols[0, 0, 4]
    >>> renamed(net.graph, w * x, "r")
    inp_5*l1m1w3

    Parameters: ``graph``; ``expression`` (a sympy expression or symbol); ``scheme``.
    """
    roles = scalar_roles(graph)
    mapping = {}
    expression = as_expression(expression)
    for symbol in expression.free_symbols:
        role = roles.get(symbol)
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
    dense = node is not None and node.layer.kind == "dense"
    return make_symbol(scheme, role.kind, layer, role.index, shape, dense)


# -- the values of every scalar at an input ------------------------------------------------
def _inspection_evaluator(graph):
    """A compiled network that also passes gradients back to the pixels, and the readable
    dL/da of the network's outputs (what the adjoint symbols of the last layer stand for)."""
    def build(graph):
        return CompiledNetwork(graph, input_gradient=True), ReadableOutputAdjoints(graph)

    return _cached(graph, "evaluator", build)


def _torch_layout(array):
    """Channels-last maps (N, H, W, C) of the fast path -> PyTorch's (N, C, H, W)."""
    return array.transpose(0, 3, 1, 2) if array is not None and array.ndim == 4 else array


class Trace:
    """Every named scalar's value at a batch and the current parameters, from the fast path.

    Each sample's values are those of its own loss (for one sample, what ``net.gradients``
    computes). Parameters: ``net``; ``x`` (one image or a batch); ``y`` (labels or targets:
    needed only for targets, the loss and adjoint symbols).

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> trace = Trace(net, np.zeros((1, 27, 27)), 1.0)
    >>> trace.value(net.graph.loss_symbol).shape
    (1,)
    """

    def __init__(self, net, x, y=None):
        batch, self.single = net.as_batch(x)
        self.net, self.graph, self.inputs, self.params = net, net.graph, batch, net.params
        self.targets = None if y is None else net.as_targets(y, len(batch))
        targets = self.targets if y is not None else np.zeros((len(batch), net.output_size))
        compiled, output_adjoints = _inspection_evaluator(net.graph)
        logits, self.caches, adjoints = compiled.trace(batch, targets, self.params)
        last = len(self.graph.nodes) - 1
        self.maps = {}
        for i, node in _numbered(self.graph):
            shape = (len(batch), *node.output_shape)
            _, z, a = self.caches[i]
            if i == last:  # the head joins the last activation with the loss
                outputs = compiled.head.outputs(logits)
                upstream = output_adjoints(list(outputs.T), list(targets.T))
                self.maps["pre_activation", i] = logits.reshape(shape)
                self.maps["activation", i] = outputs.reshape(shape)
                self.maps["adjoint_activation", i] = np.stack(
                    np.broadcast_arrays(*upstream), axis=1).reshape(shape)
            else:
                self.maps["pre_activation", i] = _torch_layout(z)
                self.maps["activation", i] = _torch_layout(a)
                self.maps["adjoint_activation", i] = _torch_layout(adjoints[i]["a"])
            self.maps["adjoint_pre_activation", i] = _torch_layout(adjoints[i]["z"]).reshape(shape)
        self.input_gradient = _torch_layout(adjoints["input"])
        self.losses = compiled.head.loss_per_sample(logits, targets)
        self._parameter_gradients = None

    def _needs_targets(self, symbol):
        if self.targets is None:
            raise ValueError(f"the value of {symbol} needs the label y")

    def parameter_gradients(self) -> dict:
        """{key: (N, *shape)}: dL/dparameter of each sample's own loss."""
        self._needs_targets("a parameter's adjoint")
        if self._parameter_gradients is None:
            per_sample = [self.net.compiled.loss_and_gradients(self.inputs[n:n + 1], self.targets[n:n + 1],
                                                                self.params)[1]
                          for n in range(len(self.inputs))]
            self._parameter_gradients = {key: np.stack([g[key] for g in per_sample]) for key in self.params}
        return self._parameter_gradients

    def layer_input(self, index: int) -> np.ndarray:
        """The values node ``index`` reads, (N, *its input shape)."""
        previous = _previous_layer(self.graph, index)
        values = self.inputs if previous is None else self.maps["activation", previous]
        return values.reshape(len(self.inputs), *self.graph.nodes[index].input_shape)

    def value(self, symbol) -> np.ndarray:
        """(N,) values of one named scalar or adjoint symbol."""
        role = _role(self.graph, symbol)
        count = len(self.inputs)
        at = (slice(None), *role.index)
        if role.adjoint or role.kind in ("target", "loss"):
            self._needs_targets(symbol)
        if role.adjoint:
            if role.kind == "loss":
                return np.ones(count)
            if role.kind == "input":
                return self.input_gradient[at]
            if role.kind in ("weight", "bias"):
                return self.parameter_gradients()[role.key][at]
            if role.kind == "target":
                raise ValueError(f"{symbol}: the loss is not differentiated by its targets here")
            return self.maps["adjoint_" + role.kind, role.node][at]
        if role.kind == "input":
            return self.inputs[at]
        if role.kind in ("weight", "bias"):
            return np.full(count, self.params[role.key][role.index])
        if role.kind == "target":
            return self.targets[at]
        if role.kind == "loss":
            return np.asarray(self.losses, dtype=float)
        return self.maps[role.kind, role.node][at]

    def evaluate(self, expression):
        """Values of an expression (or an array of them) in named scalars; see :func:`evaluate`."""
        container = np.empty(np.shape(expression), dtype=object)
        if container.ndim == 0:
            container[()] = expression
        else:
            container[...] = expression
        expressions = [_expression_or_name(self.graph, e) for e in container.flat]
        symbols = sorted(set().union(*(e.free_symbols for e in expressions)), key=lambda s: s.name)
        function = compile_expressions([symbols], expressions)
        count = len(self.inputs)
        results = function([self.value(s) for s in symbols])
        values = np.stack([np.broadcast_to(np.asarray(r, dtype=float), (count,)) for r in results], axis=1)
        values = values.reshape(count, *container.shape)
        if self.single:
            values = values[0]
            return float(values) if values.ndim == 0 else values
        return values


def _expression_or_name(graph, value):
    """A sympy expression, or the named scalar a string names: parsed by symcnn.naming, never evaluated."""
    if not isinstance(value, str):
        return as_expression(value)
    try:
        parse_name(value)
    except ValueError:
        raise ValueError(f"expression {value!r} is not a symbol name: a string may only name one of the "
                         "network's scalars, e.g. 'w__1_0_0_0_0' (symcnn never evaluates text as code; "
                         "build expressions from net.weight_symbols(...) and net.graph's symbols)") from None
    symbol = NamedScalar(value)
    if symbol not in scalar_roles(graph):
        raise ValueError(f"{value!r} is a symbol name but not a named scalar of this network")
    return symbol


def evaluate(net, expression, x, y=None):
    """The value of any expression in the network's named scalars at ``x``, ``y`` and the parameters.

    Inputs, weights, biases, z, a, targets, the loss and adjoint symbols dL/d(scalar)
    (:func:`symcnn.naming.adjoint_symbol`) all have values. Returns a float for one image
    and one expression, an array for a batch (first axis) or an array of expressions.

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> a = net.graph.layer_nodes[0].outputs[0, 0, 0]
    >>> round(evaluate(net, a * (1 - a), np.zeros((1, 27, 27))), 6)
    0.25

    Parameters: ``net``; ``expression`` (sympy expression or array-like of them; a string
    only as the name of one of the network's scalars, e.g. ``"a__1_0_0_0"``, never parsed
    as code); ``x``; ``y``.
    """
    return Trace(net, x, y).evaluate(expression)


# -- the chain-rule ledger -------------------------------------------------------------------
@dataclass
class LedgerFactor:
    """One chain-rule factor d``of``/d``wrt``: its formula in named scalars and its number."""

    of: sympy.Symbol
    wrt: sympy.Symbol
    formula: sympy.Expr
    value: float = 0.0


@dataclass
class LedgerTerm:
    """What one output position of the weight's layer adds to the gradient: the product of its factors."""

    position: tuple
    factors: list
    value: float = 0.0

    @property
    def upstream(self) -> float:
        """dL/dz at this position: the product of every factor but the last (dz/dw)."""
        return float(np.prod([factor.value for factor in self.factors[:-1]]))


class Ledger:
    """The chain rule for one weight, written out: factors, numbers and the sum over positions.

    ``path`` lists the factors from the loss down to the weight along the largest path (at
    every layer the position that contributes most), each with its formula and number.
    ``terms`` are the gradient's terms, one per output position p of the weight's layer
    (dL/da_p * da_p/dz_p * dz_p/dw), largest first; ``total`` is their sum: the gradient.
    ``expression`` is the same gradient as one sympy expression (chainrule.gradient_expression).

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> image = np.ones((1, 27, 27))
    >>> ledger = net.ledger(image, 1.0, net.weight_symbols("dense4.weight")[0, 7])
    >>> [f"{factor.of}/{factor.wrt}" for factor in ledger.path]
    ['L/a__4_0', 'a__4_0/z__4_0', 'z__4_0/w__4_0_7']
    >>> len(ledger.terms), bool(np.isclose(ledger.total, net.gradients(image, 1.0)["dense4.weight"][0, 7]))
    (1, True)

    Parameters: ``net``; ``x`` one image; ``y`` its label or targets; ``weight`` a weight or
    bias symbol (see ``net.weight_symbols``).
    """

    def __init__(self, net, x, y, weight):
        graph = net.graph
        role = _role(graph, weight)
        if role.kind not in ("weight", "bias") or role.adjoint:
            raise ValueError(f"{weight} is not a weight or bias of this network")
        self.trace = Trace(net, x, y)
        if len(self.trace.inputs) != 1:
            raise ValueError("a ledger explains one sample: pass one image")
        self.net, self.weight, self.key, self.index = net, weight, role.key, role.index
        self.node_index = role.node
        self.node = graph.nodes[role.node]
        self.terms = self._terms(graph)
        _set_values(self.trace, [factor for term in self.terms for factor in term.factors])
        for term in self.terms:
            term.value = float(np.prod([factor.value for factor in term.factors]))
        self.terms.sort(key=lambda term: -abs(term.value))
        self.total = math.fsum(term.value for term in self.terms)
        self.path = self._path(graph) if self.terms else []

    @functools.cached_property
    def expression(self) -> sympy.Expr:
        """The gradient as one sympy sum over positions (:func:`symcnn.chainrule.gradient_expression`)."""
        return gradient_expression(self.net.graph, self.weight)

    def _terms(self, graph):
        node, weight = self.node, self.weight
        softmax = node.layer.activation == "softmax"
        # a filter's (unit's) weights reach only its own outputs; every softmax output reads every z
        reached = [p for p in node.positions() if p[0] == self.index[0]]
        partials = {p: local_partials(node, p) for p in (node.positions() if softmax else reached)}
        terms = []
        for position in reached:
            weight_partial = partials[position]["weighted_sum"].get(weight, sympy.S.Zero)
            if weight_partial == 0:
                continue
            z, a = node.pre_activations[position], node.outputs[position]
            if softmax:
                upstream = sympy.Add(*[adjoint_symbol(node.outputs[other]) * partials[other]["output"][z]
                                       for other in node.positions()])
                factors = [LedgerFactor(graph.loss_symbol, z, upstream)]
            else:
                factors = [LedgerFactor(graph.loss_symbol, a, adjoint_symbol(a)),
                           LedgerFactor(a, z, partials[position]["output"][z])]
            terms.append(LedgerTerm(position, factors + [LedgerFactor(z, weight, weight_partial)]))
        return terms

    def _path(self, graph):
        """Factors from the loss down to the weight, choosing the largest contribution at each layer.

        A factor d(of)/d(current) contributes dL/d(of) * d(of)/d(current) to dL/d(current).
        """
        top = self.terms[0]
        path = [top.factors[-1]]
        current, index = top.factors[-1].of, self.node_index
        while True:
            role, node = _role(graph, current), graph.nodes[index]
            if role.kind == "pre_activation":
                positions = list(node.positions()) if node.layer.activation == "softmax" else [role.index]
                choices = [LedgerFactor(node.outputs[p], current, local_partials(node, p)["output"][current])
                           for p in positions]
            elif index == len(graph.nodes) - 1:
                loss_partial = partials_of(graph.loss_expression, [current])[current]
                path.append(LedgerFactor(graph.loss_symbol, current, loss_partial))
                break
            else:
                index, choices = reader_factors(graph, index, current)
            _set_values(self.trace, choices)
            largest = max(choices, key=lambda f: abs(f.value * float(self.trace.value(adjoint_symbol(f.of))[0])))
            path.append(largest)
            current = largest.of
        _set_values(self.trace, path[-1:])
        return path[::-1]

    def position_map(self) -> np.ndarray:
        """The terms on the output grid of the weight's layer (zero where a position adds nothing)."""
        grid = np.zeros(self.node.output_shape)
        for term in self.terms:
            grid[term.position] = term.value
        return grid

    def input_map(self) -> np.ndarray:
        """The gradient split over the scalars the weight's layer reads (first layer: the pixels).

        dz_p/dw is a sum of input scalars, so term p gives dL/dz_p * (d(dz_p/dw)/ds) * s to
        each input scalar s; the map has the layer's input shape and sums to :attr:`total`.
        """
        locations = {symbol: index for index, symbol in np.ndenumerate(self.node.inputs)}
        grid = np.zeros(self.node.input_shape)
        for term in self.terms:
            weight_partial = term.factors[-1].formula
            inputs = [s for s in weight_partial.free_symbols if s in locations]
            if not inputs:
                raise ValueError(f"{self.weight}: its gradient reads no input scalar (a bias)")
            for symbol, value in zip(inputs, np.atleast_1d(self.trace.evaluate(
                    [weight_partial.diff(s) * s for s in inputs]))):
                grid[locations[symbol]] += term.upstream * value
        return grid

    def __str__(self) -> str:
        from .display import ledger_text
        return ledger_text(self)

    def _repr_latex_(self) -> str:
        from .display import display_math, ledger_latex
        return display_math(ledger_latex(self))

    def _repr_html_(self) -> str:
        from .display import ledger_html
        return ledger_html(self)


def _set_values(trace, factors) -> None:
    """Give every factor its number at ``trace`` (one compiled function for all of them)."""
    if factors:
        # one sample, given as an image (values (n,)) or as a batch of one (values (1, n))
        values = np.reshape(trace.evaluate([factor.formula for factor in factors]), -1)
        for factor, value in zip(factors, values):
            factor.value = float(value)


def _readers(graph, index: int) -> dict:
    """{scalar: positions of node ``index`` whose expression reads it} (cached per layer)."""
    def build(graph):
        roles = scalar_roles(graph)
        node = graph.nodes[index]
        readers = {}
        for position in node.positions():
            for symbol in node.substitution(position).values():
                role = roles.get(symbol)
                if role is not None and role.kind in ("input", "activation"):
                    readers.setdefault(symbol, []).append(position)
        return readers

    return _cached(graph, f"readers_{index}", build)


def reader_factors(graph, index: int, symbol):
    """(index of the next layer, factors d(its scalar)/d ``symbol`` for every scalar reading it).

    The scalar is the z of a conv or dense layer (the a of a pooling layer); each factor
    holds the derived local partial, in the order of the reader's positions.

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> following, factors = reader_factors(net.graph, 2, net.graph.nodes[2].outputs[0, 0, 0])
    >>> following, [(str(f.of), str(f.formula)) for f in factors]
    (4, [('z__4_0', 'w__4_0_0')])

    Parameters: ``graph``; ``index`` the layer's index in ``graph.nodes``; ``symbol`` one of its outputs.
    """
    following = next(i for i, _ in _numbered(graph) if i > index)
    node = graph.nodes[following]
    stage = "weighted_sum" if node.pre_activations is not None else "output"
    outputs = node.pre_activations if node.pre_activations is not None else node.outputs
    return following, [LedgerFactor(outputs[q], symbol, local_partials(node, q)[stage][symbol])
                       for q in _readers(graph, following).get(symbol, [])]


def ledger(net, x, y, weight) -> Ledger:
    """The chain-rule ledger of dLoss/d``weight`` at one image (see :class:`Ledger`).

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> entry = ledger(net, np.ones((1, 27, 27)), 1.0, net.weight_symbols("conv3.weight")[0, 0, 1, 1])
    >>> len(entry.terms), len(entry.path)  # 15 x 15 positions; the path passes conv3 and dense4
    (225, 5)
    """
    return Ledger(net, x, y, weight)


# -- rolled and expanded forms ----------------------------------------------------------------
#: Index variables of rolled forms: filter f, channel c, row i, column j, kernel u, v, unit k, input n, m.
INDEX = {name: sympy.Symbol(name, integer=True) for name in "fcijuvknm"}


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
        from .display import rolled_text
        return rolled_text(self)

    def _repr_latex_(self) -> str:
        from .display import display_math, rolled_latex
        return display_math(rolled_latex(self))


class _RolledLayer:
    """One layer's rolled forms: its arrays, its weighted sum and output in index variables."""

    def __init__(self, graph, index: int):
        node = self.node = graph.nodes[index]
        self.index = index
        derive_template(node.template)  # cached: the template partials are derived once
        previous = _previous_layer(graph, index)
        f, c, i, j, u, v, k, n, m = (INDEX[name] for name in "fcijuvknm")

        def base(kind, layer):
            return sympy.IndexedBase(make_symbol("symcnn", kind, layer, ()))

        x_base = base("input", None) if previous is None else base("activation", graph.nodes[previous].number)
        self.x_base = x_base
        self.arrays = {x_base: (node.inputs, lambda trace: trace.layer_input(index))}
        self.w_base = self.b_base = self.z_base = None
        self.a_base = self._add(base("activation", node.number), node.outputs, "activation")
        layer, kind = node.layer, node.layer.kind
        if kind == "pool":
            self.position = (c, i, j)
            (sh, sw) = layer.stride
            window = {node.template.patch[e]: x_base[c, sh * i + e[0], sw * j + e[1]]
                      for e in np.ndindex(*node.template.patch.shape)}
            self.window = window
            self.output = node.template.output.xreplace(window)
            return
        self.z_base = self._add(base("pre_activation", node.number), node.pre_activations, "pre_activation")
        self.g_base = self._add(sympy.IndexedBase(adjoint_symbol(self.a_base.label)),
                                np.vectorize(adjoint_symbol, otypes=[object])(node.outputs), "adjoint_activation")
        self.w_base = self._add(base("weight", node.number), node.weights, ("weight", node.name))
        if node.bias is not None:
            self.b_base = self._add(base("bias", node.number), node.bias, ("bias", node.name))
        if kind == "conv":
            self.position, self.unit = (f, i, j), f
            (kh, kw), (sh, sw), (ph, pw) = layer.kernel_size, layer.stride, layer.padding
            self.x_entry = x_base[c, sh * i + u - ph, sw * j + v - pw]
            self.w_entry = self.w_base[f, 0 if layer.shared_channels else c, u, v]
            self.summed = ((c, 0, node.input_shape[0] - 1), (u, 0, kh - 1), (v, 0, kw - 1))
            # the weight's own indices fix the summation indices, except c for a shared kernel
            self.weight_indices = (f, 0, u, v) if layer.shared_channels else (f, c, u, v)
            self.positions_summed = ((i, 0, node.output_shape[1] - 1), (j, 0, node.output_shape[2] - 1))
        else:
            self.position, self.unit = (k,), k
            self.x_entry, self.w_entry = x_base[n], self.w_base[k, n]
            self.summed, self.weight_indices, self.positions_summed = ((n, 0, node.input_shape[0] - 1),), (k, n), ()
        self.summand = self.w_entry * self.x_entry
        self.weighted_sum = sympy.Sum(self.summand, *self.summed)
        if self.b_base is not None:
            self.weighted_sum += self.b_base[self.unit]
        z, a = self.z_base[self.position], self.a_base[self.position]
        if layer.activation == "softmax":
            self.output = sympy.exp(z) / sympy.Sum(sympy.exp(self.z_base[m]), (m, 0, node.output_shape[0] - 1))
            # d a_k / d z_m = a_k (delta_km - a_m), the softmax's partial in its outputs
            self.activation_partial = a * (sympy.KroneckerDelta(k, m) - self.a_base[m])
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
        where = np.argwhere(self.node.inputs == symbol)
        if role.adjoint or not len(where):
            raise ValueError(f"{symbol} is not a scalar {self.node.name} reads or owns")
        return self.x_base[tuple(int(k) for k in where[0])]

    def partial(self, of_role, wrt_role, wrt) -> RolledForm:
        """A local partial: dz/d(weight, bias or input), da/dz, or d(pooled)/d(input)."""
        point = self._point(of_role.index)
        wrt_at = self._indexed(wrt_role, wrt)
        if of_role.kind == "pre_activation":
            of = self.z_base[self.position]
            if wrt_role.kind == "weight":
                extra = tuple(s for s in self.summed if s[0] not in self.weight_indices)
                general, wrt_general = sympy.diff(self.summand, self.w_entry), self.w_entry
                general = sympy.Sum(general, *extra) if extra else general
            elif wrt_role.kind == "bias":
                general, wrt_general = sympy.S.One, self.b_base[self.unit]
            else:
                general, wrt_general = sympy.diff(self.summand, self.x_entry), self.x_entry
            at = sympy.diff(self.weighted_sum.subs(point), wrt_at).doit()
        elif self.node.pre_activations is not None:  # da/dz
            of, general = self.a_base[self.position], self.activation_partial
            if self.node.layer.activation == "softmax":
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
        if self.node.layer.activation == "softmax":
            upstream = sympy.Sum(self.g_base[m] * self.activation_partial.xreplace({k: m, m: k}), (m, 0,
                                 self.node.output_shape[0] - 1))
        else:
            upstream = self.g_base[self.position] * self.activation_partial
        if role.kind == "bias":
            wrt, general = self.b_base[self.unit], upstream
            point = {self.unit: role.index[0]}
        else:
            wrt = self.w_base[self.weight_indices]
            extra = tuple(s for s in self.summed if s[0] not in self.weight_indices)
            general = upstream * (sympy.Sum(sympy.diff(self.summand, self.w_entry), *extra) if extra
                                  else sympy.diff(self.summand, self.w_entry))
            point = {s: value for s, value in zip(self.weight_indices, role.index) if isinstance(s, sympy.Symbol)}
        if self.positions_summed:
            general = sympy.Sum(general, *self.positions_summed)
        return RolledForm(graph.loss_symbol, wrt, general, graph.loss_symbol, wrt.subs(point),
                          general.subs(point), self.arrays)


def _rolled_layer(graph, index: int) -> _RolledLayer:
    return _cached(graph, f"rolled_{index}", lambda graph: _RolledLayer(graph, index))


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
    of_role = _role(graph, of)
    if of_role.kind == "loss" and not of_role.adjoint:
        wrt_role = _role(graph, wrt)
        if wrt_role.kind not in ("weight", "bias") or wrt_role.adjoint:
            raise ValueError(f"the rolled gradient needs a weight or bias, got {wrt}")
        return _rolled_layer(graph, wrt_role.node).gradient(graph, wrt_role)
    if of_role.kind not in ("pre_activation", "activation") or of_role.adjoint:
        raise ValueError(f"rolled forms describe a layer's z or a (or the loss), got {of}")
    layer = _rolled_layer(graph, of_role.node)
    if wrt is None:
        return layer.definition(of_role)
    return layer.partial(of_role, _role(graph, wrt), wrt)


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
    of_role = _role(graph, of)
    if of_role.kind == "loss":
        return gradient_expression(graph, wrt)
    node, position = graph.nodes[of_role.node], of_role.index
    if wrt is None:
        if of_role.kind == "pre_activation":
            return node.weighted_sum_at(position)
        output = node.output_at(position)
        if node.pre_activations is not None and node.layer.activation != "softmax":
            output = output.xreplace({node.pre_activations[position]: node.weighted_sum_at(position)})
        return output
    stage = "weighted_sum" if of_role.kind == "pre_activation" else "output"
    return local_partials(node, position)[stage].get(wrt, sympy.S.Zero)


# -- receptive fields and saliency --------------------------------------------------------------
def _dependency_marks(graph, symbols):
    """Which pixels and which layer outputs the named scalars ``symbols`` depend on, transitively.

    Returns (pixel mask, {node index: mask over its outputs}). Adjoint symbols, weights and
    targets are values given to an expression, not followed.
    """
    roles = scalar_roles(graph)
    pixels = np.zeros(graph.input_shape, dtype=bool)
    marks = {i: np.zeros(node.output_shape, dtype=bool) for i, node in _numbered(graph)}
    whole_layer = set()  # softmax layers one of whose outputs is needed
    last = len(graph.nodes) - 1
    for symbol in symbols:
        role = roles.get(symbol)
        if role is None or role.adjoint:
            continue
        if role.kind == "input":
            pixels[role.index] = True
        elif role.kind == "loss":
            marks[last][...] = True
            whole_layer.add(last)
        elif role.kind in ("activation", "pre_activation"):
            marks[role.node][role.index] = True
            if role.kind == "activation" and graph.nodes[role.node].layer.activation == "softmax":
                whole_layer.add(role.node)
    for i, node in reversed(_numbered(graph)):
        if i in whole_layer:
            marks[i][...] = True
        for position in zip(*np.nonzero(marks[i])):
            for symbol in node.substitution(position).values():
                role = roles.get(symbol)
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
    return _dependency_marks(net.graph, as_expression(expression).free_symbols)[0]


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
    role = _role(graph, of)
    if role.adjoint or role.kind not in ("activation", "pre_activation"):
        raise ValueError(f"saliency is taken of a layer's z or a (or the loss), got {of}")
    trace = Trace(net, x)
    if len(trace.inputs) != 1:
        raise ValueError("saliency is computed for one image")
    node = graph.nodes[role.node]
    if role.kind == "pre_activation" or node.pre_activations is None:
        seed = {of: 1.0}  # the backward pass of a conv/dense layer starts at its z, of a pool at its output
    else:  # d of / dz_j, from the derived local partials (all z of a softmax)
        partials = local_partials(node, role.index)["output"]
        seed = dict(zip(partials, np.atleast_1d(trace.evaluate(list(partials.values())))))
    seed_map = np.zeros((1, *node.output_shape))
    for symbol, value in seed.items():
        seed_map[(0, *_role(graph, symbol).index)] = value
    compiled, _ = _inspection_evaluator(graph)
    keys = [key for i, n in _numbered(graph) if i <= role.node for key in n.parameter_keys().values()]
    adjoints = {}
    backpropagate(compiled.layers[:role.node + 1], trace.caches[:role.node + 1], seed_map.reshape(1, -1),
                  {key: trace.params[key] for key in keys}, adjoints)
    return _torch_layout(adjoints["input"])[0], trace


# -- sizes and costs ------------------------------------------------------------------------------
def _patterns(graph, index: int) -> dict:
    """Positions of a layer grouped by the shape of their instantiated template.

    {key: [count, a representative position]}; positions differ only in which patch entries
    fall into the zero padding (a softmax output is its own group).
    """
    def build(graph):
        node = graph.nodes[index]
        groups = {}
        for position in node.positions():
            mapping = node.substitution(position)
            key = tuple(mapping[xi] == 0 for xi in node.template.patch.flat)
            if node.layer.activation == "softmax":
                key += position
            groups.setdefault(key, [0, position])[0] += 1
        return groups

    return _cached(graph, f"patterns_{index}", build)


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
    for i, node in _numbered(graph):
        forward = partial_count = partial_ops = 0
        for count, position in _patterns(graph, i).values():
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


def _nested_sizes(graph) -> dict:
    """{named z, a and the loss: sympy ops of its nested expression, earlier layers pasted in}.

    Pasting an expression of n ops for each occurrence of a symbol adds n ops per occurrence
    (count_ops counts the expression tree), so the sizes follow layer by layer from each
    position's own expression, without building anything.
    """
    def build(graph):
        sizes = {}
        for i, node in _numbered(graph):
            template_shapes = {}
            for position in node.positions():
                mapping = node.substitution(position)
                key = tuple(mapping[xi] == 0 for xi in node.template.patch.flat)
                if key not in template_shapes:  # ops and occurrences of the template with its zeros
                    zeros = {xi: sympy.S.Zero for xi, zero in zip(node.template.patch.flat, key) if zero}
                    local = (node.template.weighted_sum if node.pre_activations is not None
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

    return _cached(graph, "nested_sizes", build)


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
    size = _nested_sizes(net.graph).get(symbol)
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
    _, marks = _dependency_marks(graph, [symbol])
    nested = {}
    for i, node in _numbered(graph):
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
    sizes = _nested_sizes(graph)
    first_weight = graph.layer_nodes[0].weights.flat[0]
    rows, cumulative = [], 0
    layers = [(node.name, list(node.outputs.flat)) for _, node in _numbered(graph)]
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


# -- the whole unrolled view ----------------------------------------------------------------------
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
