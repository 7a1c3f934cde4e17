"""Evaluators compiled from the derived expressions: the only module that calls ``lambdify``.

Two evaluators run the same mathematics:

* :class:`CompiledNetwork` (the fast path) compiles each layer *by the structure of its
  derived template*. The weighted-sum part of a conv or dense template has partials
  dz/d omega_k = xi_k and dz/d xi_k = omega_k (checked here, on the derived partials), so
  its forward pass, its sum over positions of upstream x dz/dw, and its pass back to the
  inputs are each one tensor contraction over all positions at once. An activation and its
  derived partial are compiled into in-place ufunc calls (:mod:`symcnn.elementwise`); the loss
  joined with the last activation and its derived partials go through ``lambdify``. Each
  batch size gets a :class:`symcnn.plan.StepPlan`: indices and buffers made once.
* :class:`UnrolledEvaluator` lambdifies every scalar expression and every local partial of
  every position, and combines them scalar by scalar; it is slow and exists to cross-check
  the fast path on small networks.

Internally feature maps are channels-last (N, H, W, C), so that a window of a map reshapes
to the (C, kh, kw) order of a PyTorch kernel.

>>> import numpy as np
>>> from symcnn.graph import SymbolicGraph
>>> from symcnn.layers import Conv2D, Dense, Flatten
>>> graph = SymbolicGraph((1, 4, 4), [Conv2D(1, 3, activation="sigmoid", bias=False),
...                                   Flatten(), Dense(1, activation="sigmoid", bias=False)], "bce")
>>> params = {"conv1.weight": np.full((1, 1, 3, 3), 0.1), "dense2.weight": np.full((1, 4), 0.2)}
>>> x, y = np.ones((1, 1, 4, 4)), np.ones((1, 1))
>>> fast = CompiledNetwork(graph).loss_and_gradients(x, y, params)
>>> slow = UnrolledEvaluator(graph).loss_and_gradients(x, y, params)
>>> bool(np.isclose(fast[0], slow[0])), bool(np.allclose(fast[1]["conv1.weight"], slow[1]["conv1.weight"]))
(True, True)
"""

from __future__ import annotations

import numpy as np
import sympy

from . import chainrule
from .differentiate import derive_template, local_partials, partials_of
from .elementwise import ElementwiseProgram
from .functions import ELEMENTARY_FUNCTIONS, expand_definitions
from .activations import activation_function, is_elementwise
from .layers import ALPHA, ZETA
from .losses import LOG_P, LOG_Q, LOGIT, P, T, output_loss
from .plan import ParameterLayout, StepPlan, copied


#: Numeric meaning of every opaque function in :mod:`symcnn.functions`, given to lambdify
#: explicitly (sympy's own printing of Heaviside/Max goes through slow Piecewise logic).
NUMPY_IMPLEMENTATIONS = {cls.__name__: cls.numpy_implementation for cls in ELEMENTARY_FUNCTIONS}


def compile_expressions(arguments, expressions):
    """Compile expressions of ``arguments`` into one numpy function (the only lambdify call).

    ``arguments`` is a list whose items are symbols or lists of symbols (a list is passed
    as one sequence). Defined functions (user activations and losses) are replaced by their
    definitions first. Common subexpressions are shared (``cse=True``); the generated
    docstring is kept short, since printing huge expressions into it is costly.

    >>> x, y = sympy.symbols("x y")
    >>> compile_expressions([x, y], [x * y, x + y])(2.0, 3.0)
    [6.0, 5.0]
    """
    return sympy.lambdify(arguments, _expand_nested(expressions), modules=[NUMPY_IMPLEMENTATIONS, "numpy"],
                          cse=True, docstring_limit=0)


def _expand_nested(expressions):
    """Nested lists of expressions, each with its defined functions replaced by their definitions."""
    if isinstance(expressions, (list, tuple)):
        return [_expand_nested(e) for e in expressions]
    return expand_definitions(expressions)


class _Activation:
    """alpha(zeta) and dL/dzeta = dL/dalpha * d alpha / d zeta (the derived partial, in zeta and alpha),
    each compiled from the template into in-place ufunc calls (:mod:`symcnn.elementwise`)."""

    def __init__(self, template):
        upstream = sympy.Symbol("upstream")  # dL/d alpha; the template's symbols are all Greek
        chained = upstream * template.partials["output"][ZETA]
        self.identity = template.output == ZETA
        self.value = ElementwiseProgram(template.output, [ZETA],
                                        fallback=lambda: compile_expressions([ZETA], template.output))
        self.chained = ElementwiseProgram(chained, [ZETA, ALPHA, upstream],
                                          fallback=lambda: compile_expressions([ZETA, ALPHA, upstream], chained))
        self.passes_upstream = self.identity or self.chained.argument == 2  # dL/dz is dL/da itself

    def stage(self, shape, gradient_buffer=None):
        """The activation for maps of ``shape``, with its own output buffers (dL/dz into ``gradient_buffer``
        where the layer's stage gives one)."""
        return _ActivationStage(self, shape, gradient_buffer)


class _ActivationStage:
    """An activation on maps of one shape: a and dL/dz written into buffers made once."""

    def __init__(self, activation, shape, gradient_buffer=None):
        self.activation = activation
        self.a = None if activation.identity else np.empty(shape)
        if activation.passes_upstream:
            self.dz = None
        else:
            self.dz = np.empty(shape) if gradient_buffer is None else gradient_buffer

    def forward(self, z):
        return z if self.a is None else self.activation.value(self.a, z)

    def backward(self, upstream, z, a):
        return upstream if self.dz is None else self.activation.chained(self.dz, z, a, upstream)


class _Head:
    """The last activation joined with the loss: one output's loss (:func:`~symcnn.losses.output_loss`),
    derived by sympy once and lambdified elementwise on (N, K) arrays, so that building it costs
    the same for 2 classes as for 1,000.

    After an elementwise activation dL/dz_k is the derived d loss_k / d z_k. After a softmax the
    loss is written in log p, log(1 - p) and p, and dL/dz is the sum of the softmax's
    vector-Jacobian products of the derived partials by each (:class:`~symcnn.activations.Softmax`).
    """

    def __init__(self, graph):
        activation = graph.nodes[-1].layer.activation
        self.softmax = None if is_elementwise(activation) else activation_function(activation)
        template = output_loss(graph.loss, activation, len(graph.logit_symbols))
        # the variables this loss is written in (after a softmax: of log p, log(1 - p) and p, those it uses)
        variables = [v for v in (LOG_P, LOG_Q, P) if template.has(v)] + [T] if self.softmax is not None else [LOGIT, T]
        self.variables = variables
        self.needs_log_complement = template.has(LOG_Q)
        self.loss = compile_expressions(variables, template)
        # (how d loss_k / d variable reaches dL/dz, compiled d loss_k / d variable) for the variables it depends on
        backward = {LOGIT: None}
        if self.softmax is not None:
            backward = {LOG_P: self.softmax.backward_log_output, LOG_Q: self.softmax.backward_log_complement,
                        P: self.softmax.backward_output}
        self.partials = [(backward[variable], compile_expressions(variables, sympy.diff(template, variable)))
                         for variable in variables[:-1] if template.has(variable)]
        if self.softmax is None:
            self.probabilities = compile_expressions([LOGIT], activation_function(activation)(LOGIT))

    def _arguments(self, logits, targets):
        """The loss's variables as arrays, and the softmax's values after a softmax."""
        if self.softmax is None:
            return [logits, targets], None
        values = self.softmax.values(logits, complement=self.needs_log_complement)
        arrays = {LOG_P: values.log_a, LOG_Q: values.log_q, P: values.a, T: targets}
        return [arrays[variable] for variable in self.variables], values

    @staticmethod
    def _full(values, shape):
        """A compiled result as an array of ``shape`` (a constant partial comes back as a number)."""
        if isinstance(values, np.ndarray) and values.shape == shape:
            return values
        return np.broadcast_to(values, shape)

    def loss_per_sample(self, logits, targets):
        arguments, _ = self._arguments(logits, targets)
        return self._full(self.loss(*arguments), logits.shape).sum(axis=1)

    def gradient(self, logits, targets):
        return self.loss_and_gradient(logits, targets)[1]

    def loss_and_gradient(self, logits, targets):
        """(each sample's loss (N,), dL/dz (N, K)) from one pass over the logits."""
        arguments, softmax_values = self._arguments(logits, targets)
        loss = self._full(self.loss(*arguments), logits.shape).sum(axis=1)
        gradient = None
        for backward, partial in self.partials:
            values = self._full(partial(*arguments), logits.shape)
            # a new array: the caller scales it in place (a compiled partial may return an argument itself)
            term = np.array(values) if backward is None else backward(values, softmax_values)
            gradient = term if gradient is None else gradient + term
        return loss, np.zeros_like(logits) if gradient is None else gradient

    def outputs(self, logits):
        if self.softmax is not None:
            return self.softmax.values(logits).a
        return np.array(self._full(self.probabilities(logits), logits.shape), dtype=float)


class CompiledNetwork:
    """The fast evaluator: forward, gradient and update passes of a :class:`SymbolicGraph`.

    Each batch size gets a :class:`symcnn.plan.StepPlan` (indices and buffers made once, reused by
    every later call of that size). Arrays returned by :meth:`loss_and_gradients` are those
    buffers: valid until the next call (:meth:`trace` and :meth:`feature_maps` return copies).

    Parameters: ``graph``; ``input_gradient``: also compute dL/dx (for saliency maps);
    ``rewrites``: run the structure-derived rewrites (:mod:`symcnn.rewrites`; False runs every
    layer as written, to check them). Methods take ``x`` as (N, C, H, W) float64 and targets as (N, K).
    """

    #: batch sizes whose plans are kept, the most recently used
    kept_plans = 3
    #: a plan whose buffers exceed this many bytes is used for its call only (predicting a large set)
    kept_plan_bytes = 256 * 2 ** 20

    def __init__(self, graph, input_gradient=False, rewrites=True):
        self.graph = graph
        self.layers = []
        for index, node in enumerate(graph.nodes):
            template = derive_template(node.template) if node.template is not None else None
            # the first layer's inputs are pixels: training never needs their gradient
            kernel = node.layer.kernel(node, template, needs_input_gradient=index > 0 or input_gradient)
            if template is not None and template.weighted_sum is not None and is_elementwise(node.layer.activation):
                kernel.activation = _Activation(template)  # the nonlinear part, compiled here
            kernel.use_rewrites = rewrites
            self.layers.append(kernel)
        self.head = _Head(graph)
        self.layout = ParameterLayout(graph.parameter_shapes())
        self.flat_gradient = np.zeros(self.layout.size)
        self.gradients = self.layout.views(self.flat_gradient)  # every plan writes here
        weight, gradient, rate = sympy.symbols("w g eta")
        #: w - eta g into a given array: the whole flat parameter buffer in a few ufunc calls
        self.flat_update = ElementwiseProgram(weight - rate * gradient, [weight, gradient, rate])
        self._plans = {}

    @property
    def kept_batch_sizes(self) -> tuple[int, ...]:
        """The batch sizes whose plans are kept, least recently used first."""
        return tuple(self._plans)

    def plan(self, batch: int) -> StepPlan:
        """The step plan for ``batch`` samples (built on first use)."""
        plan = self._plans.pop(batch, None)
        if plan is None:
            plan = StepPlan(self.layers, batch)
            if plan.nbytes > self.kept_plan_bytes:
                return plan
            while len(self._plans) >= self.kept_plans:
                self._plans.pop(next(iter(self._plans)))
        self._plans[batch] = plan
        return plan

    def _forward(self, x, params):
        """The last layer's logits z (N, K) and every layer's (cache, z, a), in the plan's buffers."""
        return self.plan(len(x)).forward(x, params)

    def feature_maps(self, x, params) -> dict:
        """{layer name: its output a, PyTorch layout (N, C, H, W) or (N, K)} for every numbered layer."""
        logits, caches = self._forward(x, params)
        maps = {}
        for node, (_, _, a) in zip(self.graph.nodes[:-1], caches[:-1]):
            if node.number is not None:
                maps[node.name] = (a.transpose(0, 3, 1, 2) if a.ndim == 4 else a).copy()
        last = self.graph.nodes[-1]  # its activation is applied by the head, on the flat logits
        maps[last.name] = self.head.outputs(logits).reshape(len(x), *last.output_shape)
        return maps

    def outputs(self, x, params):
        """The network's outputs (probabilities for sigmoid/softmax), shape (N, K)."""
        logits, _ = self._forward(x, params)
        return self.head.outputs(logits)

    def loss(self, x, targets, params):
        """Mean loss over the batch."""
        logits, _ = self._forward(x, params)
        return float(np.mean(self.head.loss_per_sample(logits, targets)))

    def loss_and_gradients(self, x, targets, params):
        """(mean loss, {key: dLoss/dkey}) for a batch; the gradients are views into
        :attr:`flat_gradient`, overwritten by the next call."""
        plan = self.plan(len(x))
        logits, caches = plan.forward(x, params)
        losses, logit_gradient = self.head.loss_and_gradient(logits, targets)
        loss = float(np.add.reduce(losses)) / len(x)  # the mean, rounded as np.mean rounds it
        if len(x) > 1:
            logit_gradient /= len(x)  # d(mean)/dz
        chainrule.backpropagate(plan.stages, caches, logit_gradient, params, gradients=self.gradients)
        return loss, self.gradients

    def trace(self, x, targets, params):
        """(logits, caches, adjoints) of each sample's own loss (not the batch mean), for inspection.

        ``caches`` as in the forward pass; ``adjoints`` as filled by
        :func:`symcnn.chainrule.backpropagate` (every layer's dL/da and dL/dz, and dL/dx); all copies.
        """
        plan = self.plan(len(x))
        logits, caches = plan.forward(x, params)
        caches = copied(caches)  # the backward pass below reuses the forward's buffers only as read
        adjoints = {}
        chainrule.backpropagate(plan.stages, caches, self.head.gradient(logits, targets), params, adjoints,
                                gradients={})
        return copied(logits), caches, copied(adjoints)


class ReadableOutputAdjoints:
    """dL/da_k of the last layer's outputs from the readable loss, finite wherever it can be.

    Each partial is a sum of (target coefficient) x (output factor), e.g. bce's
    (1 - y)/(1 - a) - y/a. A saturated output (a exactly 0 or 1 in float64, from a logit
    beyond about +-37) makes a factor infinite: a term whose coefficient is exactly 0 is
    dropped (0 x inf := 0, as in xlogy: the loss holds no such term), one with a non-zero
    coefficient is +-inf (its true size, about e^|z|, overflows float64).

    >>> from symcnn.graph import SymbolicGraph
    >>> from symcnn.layers import Dense, Flatten
    >>> graph = SymbolicGraph((1, 1, 1), [Flatten(), Dense(2, activation="sigmoid")], "bce")
    >>> [float(g) for g in ReadableOutputAdjoints(graph)([1.0, 1.0], [1.0, 0.0])]
    [-1.0, inf]

    Parameters: ``graph``. Call it with the K outputs and K targets, each a number or a
    column of a batch; it returns the K adjoints.
    """

    def __init__(self, graph):
        outputs, targets = list(graph.output_symbols), list(graph.target_symbols)
        partials = partials_of(graph.loss_expression, outputs)
        self.term_counts, pieces = [], []
        for output in outputs:
            terms = partials[output].args if isinstance(partials[output], sympy.Add) else (partials[output],)
            self.term_counts.append(len(terms))
            for term in terms:
                pieces.extend(term.as_independent(*outputs, as_Add=False))  # (coefficient, factor)
        self.pieces = compile_expressions([outputs, targets], pieces)

    def __call__(self, outputs, targets) -> list:
        with np.errstate(divide="ignore", invalid="ignore"):  # saturated outputs: see the class docstring
            pieces = iter(self.pieces(np.asarray(outputs, dtype=float), np.asarray(targets, dtype=float)))
            adjoints = []
            for count in self.term_counts:
                terms = [(next(pieces), next(pieces)) for _ in range(count)]
                adjoints.append(sum((np.where(np.equal(coefficient, 0), 0.0, np.multiply(coefficient, factor))
                                     for coefficient, factor in terms), 0.0))
        return adjoints


class UnrolledEvaluator:
    """Every scalar and every local partial lambdified separately; for small networks.

    Parameters: ``graph``; ``max_terms`` bounds the size of what is built, checked before
    anything is built (None: :data:`symcnn.graph.DEFAULT_MAX_UNROLLED_TERMS`; see
    :meth:`SymbolicGraph.check_unrolled_budget`).
    """

    def __init__(self, graph, max_terms=None):
        self.graph = graph
        graph.check_unrolled_budget(max_terms)
        self.steps = []
        parameter_symbols = graph.parameter_symbols()
        for node in graph.layer_nodes:
            parameters = [s for key in node.parameter_keys().values() for s in parameter_symbols[key].flat]
            known = list(node.inputs.flat) + parameters
            positions = list(node.positions())
            partial_lists = [local_partials(node, position) for position in positions]
            step = {"node": node, "positions": positions, "arguments": known}
            if node.pre_activations is not None:
                step["weighted_sum"] = compile_expressions([known], [node.weighted_sum_at(p) for p in positions])
                local = known + list(node.pre_activations.flat) + list(node.outputs.flat)
                step["output"] = compile_expressions([list(node.pre_activations.flat)],
                                                     [node.output_at(p) for p in positions])
            else:
                local = known + list(node.outputs.flat)
                step["output"] = compile_expressions([known], [node.output_at(p) for p in positions])
            step["partial_symbols"] = [{stage: list(partials[stage]) for stage in partials}
                                       for partials in partial_lists]
            step["partials"] = compile_expressions(
                [local], [[list(partials[stage].values()) for stage in sorted(partials)]
                          for partials in partial_lists])
            step["local_arguments"] = local
            self.steps.append(step)
        self.head = _Head(graph)
        # dL/da of the last layer, from the readable loss: shown to people, not used to train
        self.output_adjoints = ReadableOutputAdjoints(graph)

    def forward_values(self, x, params) -> dict:
        """{named scalar: value} for the inputs, parameters and every layer's z and a (one sample)."""
        values = dict(zip(self.graph.input_symbols.flat, np.asarray(x, dtype=float).flat))
        for key, symbols in self.graph.parameter_symbols().items():
            values.update(zip(symbols.flat, params[key].flat))
        for step in self.steps:
            node = step["node"]
            known = [values[s] for s in step["arguments"]]
            if node.pre_activations is not None:
                values.update(zip(node.pre_activations.flat, step["weighted_sum"](known)))
                values.update(zip(node.outputs.flat, step["output"]([values[s] for s in node.pre_activations.flat])))
            else:
                values.update(zip(node.outputs.flat, step["output"](known)))
        return values

    def adjoints(self, values: dict, target) -> tuple[float, dict]:
        """(loss, {named scalar: dL/d scalar}) by the per-scalar chain rule, from forward values."""
        target = np.asarray(target, dtype=float)
        logits = np.array([[values[s] for s in self.graph.logit_symbols]])
        losses, logit_gradient = self.head.loss_and_gradient(logits, target[None])
        loss = float(losses[0])
        adjoints = dict(zip(self.graph.logit_symbols, logit_gradient[0]))
        outputs = [values[a] for a in self.graph.output_symbols]
        adjoints.update(zip(self.graph.output_symbols, self.output_adjoints(outputs, list(target))))
        for step in reversed(self.steps):
            node = step["node"]
            partial_values = step["partials"]([values[s] for s in step["local_arguments"]])
            for position, symbols, numbers in zip(step["positions"], step["partial_symbols"], partial_values):
                partials = {stage: dict(zip(symbols[stage], stage_numbers))
                            for stage, stage_numbers in zip(sorted(symbols), numbers)}
                output = node.outputs[position]
                if node.pre_activations is None:  # pooling: a depends on the inputs directly
                    chainrule.accumulate(adjoints, output, partials["output"])
                    continue
                if step is not self.steps[-1]:  # the last layer's dL/dz comes from the joined loss
                    chainrule.accumulate(adjoints, output, partials["output"])
                chainrule.accumulate(adjoints, node.pre_activations[position], partials["weighted_sum"])
        return loss, adjoints

    def loss_and_gradients(self, x, targets, params):
        """(mean loss, {key: dLoss/dkey}) for a batch, scalar by scalar."""
        total_loss, gradients = 0.0, {key: np.zeros_like(v, dtype=float) for key, v in params.items()}
        for sample, target in zip(x, targets):
            loss, adjoints = self.adjoints(self.forward_values(sample, params), target)
            total_loss += loss
            for key, symbols in self.graph.parameter_symbols().items():
                gradients[key] += np.array([adjoints.get(s, 0.0) for s in symbols.flat]).reshape(symbols.shape)
        count = len(x)
        return total_loss / count, {key: g / count for key, g in gradients.items()}
