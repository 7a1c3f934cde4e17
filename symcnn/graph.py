"""The named-scalar graph of a network: every scalar's symbol and expression, no numbers.

Each layer's output scalars are expressions in the *named* scalars of the layer before it
(never in pasted-in earlier expressions), so the graph stays linear in the network's size.

>>> from symcnn.layers import Conv2D, Dense, Flatten
>>> graph = SymbolicGraph((1, 4, 4), [Conv2D(1, 3, activation="sigmoid", bias=False),
...                                   Flatten(), Dense(1, activation="sigmoid", bias=False)], "bce")
>>> [node.name for node in graph.layer_nodes]
['conv1', 'dense2']
>>> graph.layer_nodes[0].weighted_sum_at((0, 1, 1)).args[:2]
(w__1_0_0_0_0*x_0_1_1, w__1_0_0_0_1*x_0_1_2)
>>> graph.layer_nodes[0].output_at((0, 1, 1))
Sigmoid(z__1_0_1_1)
>>> graph.loss_expression
-y_0*log(a__2_0) - (1 - y_0)*log(1 - a__2_0)
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import sympy

from .activations import activation_function, is_elementwise
from .checks import check_int
from .layers import ALPHA, ZETA, Flatten, Layer, LayerTemplate
from .losses import check_loss, loss_of_probabilities
from .naming import SymbolArray, make_symbol, symbol_array

#: Unrolled building stops before it starts beyond this many expression terms: about half a
#: minute of building. Networks A (29,192 terms) and C (86,250) fit; B (631,666) and D
#: (588,082) need an explicit, larger ``max_terms``.
DEFAULT_MAX_UNROLLED_TERMS = 100_000
#: Rough cost of unrolled building and compiling per term (network A: 29,192 terms in 9 s on 2 cores).
SECONDS_PER_UNROLLED_TERM = 3e-4

#: Building a network (deriving and compiling each layer, the loss's partials, setting up the
#: parameters and the window indices) is refused before it starts beyond this cost (see
#: :func:`estimated_build_cost`): about half a minute. Presets A-D cost 7k-9k, an A-like
#: network on a 216x216 image 20k, an 8-filter conv on 512x512 pixels 47k; a 1000-class
#: head 100k. Callers pass a larger ``max_build_cost``.
DEFAULT_MAX_BUILD_COST = 3_000_000
#: Deriving one layer's template (its size does not matter: an indexed sum is derived at a
#: generic index) and compiling its activation: about 20 ms, measured 2-9 layers on 2 cores.
BUILD_COST_PER_LAYER = 2_000
#: Each output of the last layer adds its loss term and its partials to the readable loss:
#: measured 10, 100 and 1000 sigmoid outputs with bce take 0.10, 0.12 and 1.1 s (softmax: 0.2 s).
BUILD_COST_PER_OUTPUT = 100
#: Parameters (initialised) and patch entries (what one image gathers: for a conv or pooling layer its index,
#: positions x patch) are numbers set up with numpy: about 3e-8 s each, so this many per unit
#: (measured: 8 filters 3x3 on 1024x1024 pixels, 30 million of them, 1.2 s).
NUMBERS_PER_BUILD_COST = 300
#: Seconds of building per unit of cost on the machine it was measured on (2 shared cores).
SECONDS_PER_BUILD_COST = 1e-5
#: Bytes of one parameter (float64).
BYTES_PER_PARAMETER = 8


class BuildEstimate(NamedTuple):
    """What building a network costs, from its shapes alone (see :func:`estimated_build_cost`)."""

    cost: int
    parameters: int
    patch_entries: int


def estimated_build_cost(input_shape, layers) -> BuildEstimate:
    """(cost, parameters, patch entries) of building a network, from its shapes alone.

    cost = ``BUILD_COST_PER_LAYER`` x numbered layers + ``BUILD_COST_PER_OUTPUT`` x outputs
    + (parameters + patch entries) / ``NUMBERS_PER_BUILD_COST``. No
    per-scalar symbol is made when building, so the image size enters only through the
    numbers numpy sets up: parameters, and patch entries (positions x patch size of each
    conv or pooling layer: the gather index its kernel precomputes). A softmax costs no more
    than another activation: its partials are derived once for any K (see
    :class:`~symcnn.activations.Softmax`). Python ints
    throughout, so absurd sizes give an absurd number, not an overflow or a MemoryError.

    >>> from symcnn.layers import Conv2D, Dense, Flatten
    >>> estimated_build_cost((1, 4, 4), [Conv2D(1, 3, bias=False), Flatten(), Dense(1)])
    BuildEstimate(cost=4101, parameters=14, patch_entries=40)
    """
    shape, numbered, parameters, entries = tuple(input_shape), 0, 0, 0
    for layer in layers:
        output_shape = layer.output_shape(shape)
        if not isinstance(layer, Flatten):
            outputs = math.prod(output_shape)
            numbered += 1
            parameters += sum(math.prod(size) for size in layer.parameter_shapes(shape).values())
            # a weighted sum gathers each patch once for all its filters (units); pooling once per channel
            windows = outputs // output_shape[0] if layer.has_weighted_sum else outputs
            entries += windows * layer.template_size(shape)
        shape = output_shape
    cost = (BUILD_COST_PER_LAYER * numbered + BUILD_COST_PER_OUTPUT * math.prod(shape)
            + -(-(parameters + entries) // NUMBERS_PER_BUILD_COST))
    return BuildEstimate(cost, parameters, entries)


def available_memory() -> int | None:
    """Bytes of memory available now (Linux ``MemAvailable``; else the physical memory; None if unknown).

    >>> available_memory() is None or available_memory() > 0
    True
    """
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _size(nbytes: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= size:
            return f"{nbytes / size:,.1f} {unit}"
    return f"{nbytes:.0f} bytes"


def _duration(seconds: float) -> str:
    for unit, size in (("year", 3.15e7), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}s"
    return f"{seconds:.0f} s"


def check_build_budget(input_shape, layers, max_build_cost=None) -> int:
    """Raise ``ValueError`` before anything is built if the network costs more than ``max_build_cost``,
    or if its parameters alone would not fit in the memory available.

    ``max_build_cost=None`` means :data:`DEFAULT_MAX_BUILD_COST`. Returns the estimated cost
    (:func:`estimated_build_cost`); the message gives it, a time guess and how to proceed.

    >>> from symcnn.layers import Dense, Flatten
    >>> check_build_budget((1, 10, 10), [Flatten(), Dense(40_000)])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: building this network would derive 1 layer(s), join 40,000 outputs with the loss and set up 4,040,000 parameters and 100 patch entries: ... pass max_build_cost=4015467 or more (to Network or symcnn.load)
    """
    max_build_cost = (DEFAULT_MAX_BUILD_COST if max_build_cost is None
                      else check_int(max_build_cost, "max_build_cost"))
    cost, parameters, entries = estimated_build_cost(input_shape, layers)
    memory, available = BYTES_PER_PARAMETER * parameters, available_memory()
    if available is not None and memory > available:
        raise ValueError(f"this network's {parameters:,} parameters alone would take {_size(memory)} of memory "
                         f"(float64), more than the {_size(available)} available, so nothing was built: "
                         "use fewer filters or units, a smaller input or a stride or pooling before a Dense layer")
    if cost > max_build_cost:
        layers_count = sum(not isinstance(layer, Flatten) for layer in layers)
        raise ValueError(f"building this network would derive {layers_count} layer(s), join "
                         f"{_outputs(input_shape, layers):,} outputs with the loss and set up {parameters:,} "
                         "parameters "
                         f"and {entries:,} patch entries: a cost of {cost:,} ({BUILD_COST_PER_LAYER:,} x layers + "
                         f"{BUILD_COST_PER_OUTPUT} x outputs + (parameters + patch entries) / "
                         f"{NUMBERS_PER_BUILD_COST}), more than "
                         f"max_build_cost={max_build_cost:,}, so nothing was built. Expect about "
                         f"{_duration(cost * SECONDS_PER_BUILD_COST)} of building; to build it anyway pass "
                         f"max_build_cost={cost} or more (to Network or symcnn.load)")
    return cost


def _outputs(input_shape, layers) -> int:
    shape = tuple(input_shape)
    for layer in layers:
        shape = layer.output_shape(shape)
    return math.prod(shape)


@dataclass(eq=False)  # compared by identity: its symbol arrays compare entry by entry
class LayerNode:
    """One layer placed in the graph: its symbols and its (not yet differentiated) template."""

    number: int | None
    layer: Layer
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    inputs: SymbolArray
    outputs: SymbolArray
    weights: SymbolArray | None = None
    bias: SymbolArray | None = None
    pre_activations: SymbolArray | None = None
    template: LayerTemplate | None = None

    @property
    def has_units(self) -> bool:
        """Whether the layer's outputs are one vector of units (a Dense layer's; the "r" scheme names
        their parameters apart, and only such a layer may hold a softmax)."""
        return self.number is not None and len(self.output_shape) == 1

    @property
    def name(self) -> str:
        """``conv1``, ``pool2``, ``dense3``...; flatten layers are not numbered."""
        return f"{self.layer.kind}{self.number}" if self.number is not None else "flatten"

    def parameter_keys(self) -> dict[str, str]:
        """{"weight": "conv1.weight", "bias": "conv1.bias"} for the parameters this layer has."""
        keys = {}
        if self.weights is not None:
            keys["weight"] = f"{self.name}.weight"
        if self.bias is not None:
            keys["bias"] = f"{self.name}.bias"
        return keys

    def positions(self):
        """Every output index of the layer."""
        return np.ndindex(*self.output_shape)

    def positions_reading(self, symbol) -> list:
        """The output positions whose expression reads input scalar ``symbol``, in position order.

        >>> from symcnn.layers import Conv2D, Dense, Flatten
        >>> graph = SymbolicGraph((1, 5, 5), [Conv2D(1, 3), Flatten(), Dense(1, activation="sigmoid")], "bce")
        >>> graph.layer_nodes[0].positions_reading(graph.input_symbols[0, 0, 1])
        [(0, 0, 0), (0, 0, 1)]
        """
        index = self.inputs.index_of(symbol)
        if index is None:
            return []
        positions = self.layer.positions_reading(index, self.input_shape, self.output_shape)
        if positions is None:  # a kind that does not say: look at every position's substitution
            positions = [p for p in self.positions() if any(s == symbol for s in self.substitution(p).values())]
        return positions

    def substitution(self, position) -> dict:
        """Template symbol -> named scalar at this output position (see ``Layer.substitution``)."""
        return self.layer.substitution(tuple(position), self.inputs, self.weights, self.bias)

    def weighted_sum_at(self, position) -> sympy.Expr:
        """z at ``position`` in the named inputs and parameters (conv and dense layers), written out term by term."""
        return self.template.expanded_weighted_sum().xreplace(self.substitution(position))

    def output_at(self, position) -> sympy.Expr:
        """The layer's output scalar at ``position``, in the named scalars one step before it."""
        position = tuple(position)
        if self.pre_activations is None:  # pooling: a is a function of the window itself
            return self.template.output.xreplace(self.substitution(position))
        if not is_elementwise(self.layer.activation):  # a softmax: every output reads every z
            return activation_function(self.layer.activation).outputs(list(self.pre_activations.flat))[position[0]]
        return self.template.output.xreplace({ZETA: self.pre_activations[position],
                                              ALPHA: self.outputs[position]})

    def instantiation(self, position) -> dict:
        """Every template symbol (patch, kernel, bias, zeta, alpha) -> its named scalar here."""
        mapping = self.substitution(position)
        if self.pre_activations is not None:
            mapping[ZETA] = self.pre_activations[tuple(position)]
        mapping[ALPHA] = self.outputs[tuple(position)]
        return mapping


class SymbolicGraph:
    """Every named scalar of a network, layer by layer, and the loss.

    Parameters: ``input_shape`` (C, H, W), ``layers`` (``Layer`` objects in order),
    ``loss`` (``"bce"``, ``"cross_entropy"``, ``"mse"``, ``"huber"`` or a
    :class:`~symcnn.losses.Loss`), ``naming`` (``"symcnn"`` or ``"r"``),
    ``max_build_cost`` (see :func:`check_build_budget`; None: :data:`DEFAULT_MAX_BUILD_COST`),
    ``progress`` (None, or a callable ``progress(cost)`` returning None or an object whose
    ``update(layer=name)`` is called as each layer is built; the caller closes it).
    """

    def __init__(self, input_shape, layers, loss, naming="symcnn", max_build_cost=None, progress=None):
        self.naming = naming
        self.input_shape = tuple(input_shape)
        for position, layer in enumerate(layers):
            if isinstance(layer, type) and issubclass(layer, Layer):
                raise TypeError(f"layers[{position}] is the class {layer.__name__}, not a layer: "
                                f"write {layer.__name__}(...) with its arguments")
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{position}] must be a symcnn layer (Conv2D, Dense, ...), "
                                f"got {type(layer).__name__}")
        self.build_cost = check_build_budget(self.input_shape, layers, max_build_cost)
        shown = progress(self.build_cost) if progress is not None else None
        self.input_symbols = symbol_array(naming, "input", None, self.input_shape)
        self.nodes: list[LayerNode] = []
        inputs, number = self.input_symbols, 0
        for layer in layers:
            node = self._place(layer, inputs, None if isinstance(layer, Flatten) else number + 1)
            number = node.number or number
            self.nodes.append(node)
            inputs = node.outputs
            if shown is not None:
                shown.update(layer=node.name)
        self._check_last_layer(loss)
        self.loss = loss
        self.output_symbols = self.nodes[-1].outputs.reshape(-1)
        self.logit_symbols = self.nodes[-1].pre_activations.reshape(-1)
        self.target_symbols = symbol_array(naming, "target", None, self.output_symbols.shape)
        self.loss_symbol = make_symbol(naming, "loss", None, ())
        self.loss_expression = loss_of_probabilities(loss, list(self.output_symbols), list(self.target_symbols))

    def _place(self, layer, inputs, number) -> LayerNode:
        input_shape = inputs.shape
        output_shape = layer.output_shape(input_shape)
        if number is None:
            return LayerNode(None, layer, input_shape, output_shape, inputs, inputs.reshape(output_shape))
        shapes = layer.parameter_shapes(input_shape)
        node = LayerNode(number, layer, input_shape, output_shape, inputs,
                         symbol_array(self.naming, "activation", number, output_shape),
                         template=layer.template(input_shape))
        if not is_elementwise(layer.activation) and not node.has_units:
            raise ValueError(f"layer {number} ({layer.describe()}): softmax is only available on a Dense layer "
                             "(its outputs must be one vector)")
        if "weight" in shapes:
            node.weights = symbol_array(self.naming, "weight", number, shapes["weight"], node.has_units)
        if "bias" in shapes:
            node.bias = symbol_array(self.naming, "bias", number, shapes["bias"], node.has_units)
        if layer.has_weighted_sum:
            node.pre_activations = symbol_array(self.naming, "pre_activation", number, output_shape)
        return node

    def _check_last_layer(self, loss):
        if not self.nodes or self.nodes[-1].pre_activations is None:
            raise ValueError("the last layer must be a Conv2D or Dense layer (the loss needs its logits)")
        for node in self.nodes[:-1]:
            if not is_elementwise(node.layer.activation):
                raise ValueError(f"layer {node.number} ({node.layer.describe()}): softmax is only "
                                 "supported on the last layer")
        last = self.nodes[-1]
        if not is_elementwise(last.layer.activation) and last.output_shape == (1,):
            raise ValueError(f"layer {last.number} ({last.layer.describe()}): a softmax over one output is "
                             f"identically 1, so nothing can be learned: {loss} after a softmax needs at least "
                             "two outputs; for one output use Dense(1, activation='sigmoid') with loss='bce'")
        check_loss(loss, last.layer.activation)

    @property
    def layer_nodes(self) -> list[LayerNode]:
        """The numbered layers (everything but Flatten)."""
        return [node for node in self.nodes if node.number is not None]

    def parameter_symbols(self) -> dict[str, SymbolArray]:
        """{"conv1.weight": its symbols (a :class:`~symcnn.naming.SymbolArray`), ...} in layer order, PyTorch
        layouts."""
        symbols = {}
        for node in self.layer_nodes:
            for kind, key in node.parameter_keys().items():
                symbols[key] = node.weights if kind == "weight" else node.bias
        return symbols

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        """{"conv1.weight": (1, 1, 3, 3), ...}."""
        return {key: array.shape for key, array in self.parameter_symbols().items()}

    def estimated_unrolled_terms(self) -> int:
        """Number of terms the unrolled graph would hold: positions x template size per layer."""
        total = 0
        for node in self.layer_nodes:
            total += int(np.prod(node.output_shape)) * (node.template.patch.size + 1)
        return total

    def check_unrolled_budget(self, max_terms: int | None = DEFAULT_MAX_UNROLLED_TERMS) -> int:
        """Raise ``ValueError`` before building if the unrolled graph exceeds ``max_terms``.

        Returns the estimate (:meth:`estimated_unrolled_terms`); ``max_terms=None`` means
        :data:`DEFAULT_MAX_UNROLLED_TERMS`. The message gives the estimate, a time guess and
        how to proceed.
        """
        max_terms = DEFAULT_MAX_UNROLLED_TERMS if max_terms is None else check_int(max_terms, "max_terms")
        estimate = self.estimated_unrolled_terms()
        if estimate > max_terms:
            minutes = estimate * SECONDS_PER_UNROLLED_TERM / 60
            raise ValueError(f"the unrolled network would hold about {estimate:,} expression terms, "
                             f"more than max_terms={max_terms:,}, so nothing was built. Its gradients "
                             "are the same numbers as the fast path's (net.gradients); to unroll it "
                             f"anyway pass max_terms={estimate} or more and expect about "
                             f"{minutes:.0f} minute(s) of building")
        return estimate

    def unrolled_expressions(self, max_terms: int | None = DEFAULT_MAX_UNROLLED_TERMS) -> dict:
        """{named scalar: its expression in the named scalars one step before} for all layers."""
        self.check_unrolled_budget(max_terms)
        expressions = {}
        for node in self.layer_nodes:
            for position in node.positions():
                if node.pre_activations is not None:
                    expressions[node.pre_activations[position]] = node.weighted_sum_at(position)
                expressions[node.outputs[position]] = node.output_at(position)
        expressions[self.loss_symbol] = self.loss_expression
        return expressions
