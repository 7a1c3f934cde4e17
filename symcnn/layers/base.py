"""What every layer kind shares: :class:`Layer` (the interface a kind implements), its
:class:`LayerTemplate`, the generic symbols zeta and alpha, the index variables of rolled forms,
and the argument checks and shape rules the kinds have in common.

>>> window_output_size(28, 5, 1, 0, "Conv2D", "height")
24
>>> positive_pair(3, "kernel_size", "Conv2D")
(3, 3)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import sympy

from ..activations import activation_function, is_elementwise
from ..checks import is_int
from ..initializers import INITIALIZERS
from ..naming import TEMPLATE_LETTERS, template_array, template_symbol

ZETA = template_symbol("pre_activation")
ALPHA = template_symbol("activation")

#: Index variables of rolled forms: filter f, channel c, row i, column j, kernel u, v, unit k, input n, m.
INDEX = {name: sympy.Symbol(name, integer=True) for name in "fcijuvknm"}


def positive_pair(value, argument: str, layer: str, minimum: int = 1) -> tuple[int, int]:
    """Accept an int or a pair of ints >= ``minimum`` and return the pair (``layer`` names the caller in errors)."""
    pair = (value, value) if is_int(value) else value
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or not all(is_int(v) for v in pair)):
        raise TypeError(f"{layer}: {argument} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in pair):
        raise ValueError(f"{layer}: {argument} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def check_init(value, argument: str, layer: str) -> str:
    """``value`` if it names an initializer of :data:`symcnn.initializers.INITIALIZERS`, else a ``ValueError``."""
    if value not in INITIALIZERS:
        raise ValueError(f"{layer}: {argument} must be one of {INITIALIZERS}, got {value!r}")
    return value


def window_positions(entry: int, window: int, stride: int, padding: int, outputs: int) -> range:
    """Output positions i along one axis whose window (rows s i - p ... s i - p + window - 1) holds input ``entry``.

    >>> list(window_positions(4, 3, 1, 0, 8)), list(window_positions(4, 2, 2, 0, 4))
    ([2, 3, 4], [2])
    """
    first = max(0, -((window - 1 - entry - padding) // stride))  # ceil((entry + padding - window + 1) / stride)
    last = min(outputs - 1, (entry + padding) // stride)
    return range(first, last + 1)


def window_output_size(size: int, window: int, stride: int, padding: int, layer: str, axis: str) -> int:
    """(size + 2 padding - window) // stride + 1, refused when the window does not fit."""
    padded = size + 2 * padding
    if window > padded:
        raise ValueError(f"{layer}: window {window} is larger than the {axis} of its input "
                         f"({size}{f' + 2*{padding} padding' if padding else ''})")
    return (padded - window) // stride + 1


def template_patch(*index):
    """The generic input xi at ``index`` of a template's patch."""
    return template_symbol("input", index)


def template_kernel(*index):
    """The generic weight omega at ``index`` of a template's kernel."""
    return template_symbol("weight", index)


#: The generic patch xi and kernel omega of a weighted-sum template, indexed (xi[c, u, v], omega[n]).
PATCH = sympy.IndexedBase(TEMPLATE_LETTERS["input"][0])
KERNEL = sympy.IndexedBase(TEMPLATE_LETTERS["weight"][0])
_INDEXED_KINDS = {PATCH: "input", KERNEL: "weight"}


def template_entries(expression: sympy.Expr) -> sympy.Expr:
    """``expression`` with every indexed entry at numbers (xi[0, 1, 2]) written as its template symbol (xi_0_1_2).

    >>> template_entries(KERNEL[0, 2] * PATCH[0, 2])
    omega_0_2*xi_0_2
    """
    return expression.xreplace({entry: template_symbol(_INDEXED_KINDS[entry.base], tuple(int(i) for i in entry.indices))
                                for entry in expression.atoms(sympy.Indexed) if entry.base in _INDEXED_KINDS})


@dataclass(eq=False)  # compared by identity: its symbol arrays compare entry by entry
class LayerTemplate:
    """One generic output scalar of a layer, in template symbols.

    ``weighted_sum`` is zeta's expression (None for pooling): for conv and dense the indexed
    sum zeta = sum_k omega[k] xi[k] (+ beta), whose size does not depend on the layer's;
    ``output`` is alpha's expression (in zeta for conv/dense, in the patch for pooling).
    ``patch`` and ``kernel`` are the template symbols xi_k, omega_k one position
    instantiates (a :class:`~symcnn.naming.SymbolArray`, made when asked for);
    ``generic_index`` the index (sympy ``Idx`` with the patch's ranges) at which
    :func:`symcnn.differentiate.derive_template` derives the partials of an indexed sum;
    ``kernel_axes`` the patch axes the kernel's index holds (None: all of them; a kernel shared
    by every input channel holds only (u, v)).
    """

    patch: object
    kernel: object | None
    bias: sympy.Symbol | None
    weighted_sum: sympy.Expr | None
    output: sympy.Expr
    partials: dict = field(default_factory=dict)
    generic_index: tuple = ()
    kernel_axes: tuple | None = None
    _expanded: sympy.Expr | None = field(default=None, repr=False, compare=False)

    @property
    def kernel_index(self) -> tuple:
        """The generic index of the kernel: ``generic_index`` on the axes the kernel holds."""
        axes = range(len(self.generic_index)) if self.kernel_axes is None else self.kernel_axes
        return tuple(self.generic_index[axis] for axis in axes)

    @property
    def generic_kernel_entry(self):
        """omega at the generic kernel index (what the weighted sum's partial by a weight is taken at)."""
        return KERNEL[self.kernel_index]

    @property
    def generic_patch_entry(self):
        """xi at the generic index."""
        return PATCH[self.generic_index]

    def expanded_weighted_sum(self) -> sympy.Expr:
        """``weighted_sum`` written out term by term in the template symbols (built on first use).

        >>> from symcnn.layers import Dense
        >>> Dense(1, bias=False).template((3,)).expanded_weighted_sum()
        omega_0*xi_0 + omega_1*xi_1 + omega_2*xi_2
        """
        if self._expanded is None:
            self._expanded = template_entries(self.weighted_sum.replace(
                lambda e: isinstance(e, sympy.Sum), _written_out))
        return self._expanded


def _written_out(indexed_sum: sympy.Sum) -> sympy.Expr:
    """A sum over numeric ranges as the Add of its terms (sympy's ``doit`` substitutes term by term, slowly)."""
    variables = [limit[0] for limit in indexed_sum.limits]
    ranges = [range(int(limit[1]), int(limit[2]) + 1) for limit in indexed_sum.limits]
    return sympy.Add(*[indexed_sum.function.xreplace(dict(zip(variables, values)))
                       for values in itertools.product(*ranges)])


def affine_template(shape, index_names: str, has_bias, activation, kernel_index_names=None) -> LayerTemplate:
    """zeta = sum over a patch of ``shape`` of omega[k] xi[k] (+ beta), alpha = activation(zeta)
    (zeta itself for softmax, joined with the loss). ``index_names`` name the summation
    indices (letters of :data:`INDEX`), one per axis of the patch; ``kernel_index_names`` those
    the kernel holds (default all: a kernel without c is shared by every input channel).

    >>> affine_template((3, 2, 2), "cuv", True, "relu").weighted_sum
    beta + Sum(omega[c, u, v]*xi[c, u, v], (c, 0, 2), (u, 0, 1), (v, 0, 1))
    >>> affine_template((3, 2, 2), "cuv", False, "relu", kernel_index_names="uv").weighted_sum
    Sum(omega[u, v]*xi[c, u, v], (c, 0, 2), (u, 0, 1), (v, 0, 1))
    """
    summed = tuple(INDEX[name] for name in index_names)
    kernel_names = index_names if kernel_index_names is None else kernel_index_names
    kernel_axes = tuple(index_names.index(name) for name in kernel_names)
    bias = template_symbol("bias") if has_bias else None
    weighted_sum = sympy.Sum(KERNEL[tuple(summed[axis] for axis in kernel_axes)] * PATCH[summed],
                             *[(k, 0, n - 1) for k, n in zip(summed, shape)])
    if bias is not None:
        weighted_sum += bias
    output = activation_function(activation)(ZETA) if is_elementwise(activation) else ZETA
    # an axis of one entry has the one index 0 (sympy keeps delta(0, k) for an Idx with range 0..0)
    generic = tuple(sympy.Idx(f"{name}_1", n) if n > 1 else sympy.S.Zero for name, n in zip(index_names, shape))
    kernel_shape = tuple(shape[axis] for axis in kernel_axes)
    return LayerTemplate(template_array("input", shape), template_array("weight", kernel_shape), bias, weighted_sum,
                         output, generic_index=generic,
                         kernel_axes=None if kernel_index_names is None else kernel_axes)


def check_affine_structure(name: str, template: LayerTemplate):
    """Confirm from the derived partials of ``template`` that z = sum_k omega_k xi_k (+ beta):
    dz/d omega_k = xi_k and dz/d xi_k = omega_k at the generic index k, dz/d beta = 1."""
    partials, k = template.partials["weighted_sum"], template.generic_index
    if k:  # an indexed sum: its partials at the generic index (a shared kernel's: the sum of its patch entries)
        generic = partials.generic
        by_weight = sympy.Add.make_args(generic.get(template.generic_kernel_entry, sympy.S.Zero))
        axes = range(len(k)) if template.kernel_axes is None else template.kernel_axes
        # each term a patch entry at the weight's own index on the axes the kernel holds
        linear = (generic.get(template.generic_patch_entry) == template.generic_kernel_entry
                  and all(isinstance(t, sympy.Indexed) and t.base == PATCH
                          and tuple(t.indices[axis] for axis in axes) == template.kernel_index for t in by_weight))
    else:  # written out: every entry's
        linear = all(partials[omega] == xi and partials[xi] == omega
                     for omega, xi in zip(template.kernel.flat, template.patch.flat))
    if template.bias is not None:
        linear = linear and partials[template.bias] == 1
    if not linear:
        raise NotImplementedError(f"{name}: the fast path compiles weighted sums only")


@dataclass
class RolledIndexing:
    """How a layer kind reads its arrays in a rolled form, in the index variables of :data:`INDEX`.

    ``position``: the indices of one output; ``unit``: the index its bias follows; ``x_entry``
    and ``w_entry``: the input and weight entries of one term of the weighted sum, summed
    over ``summed`` ((index, first, last) triples); ``weight_indices``: the weight's own
    indices; ``positions_summed``: the output positions a weight's gradient sums over;
    ``window``: for pooling, template patch symbol -> the input entry it reads.
    """

    position: tuple
    unit: sympy.Symbol | None = None
    x_entry: sympy.Expr | None = None
    w_entry: sympy.Expr | None = None
    summed: tuple = ()
    weight_indices: tuple = ()
    positions_summed: tuple = ()
    window: dict | None = None


class Layer:
    """Base class: a layer maps an input shape (C, H, W) or (D,) to an output shape.

    A layer kind implements its shape rule (:meth:`output_shape`, :meth:`parameter_shapes`),
    its :meth:`template` and :meth:`substitution`, its numeric :meth:`kernel` and its
    :meth:`rolled_indexing`.
    """

    kind = "layer"
    has_parameters = False
    #: whether the layer has a weighted sum z before its activation a (conv, dense)
    has_weighted_sum = False
    activation = None

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        raise NotImplementedError

    def parameter_shapes(self, input_shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
        return {}

    def template_size(self, input_shape: tuple[int, ...]) -> int:
        """Number of generic inputs (xi) in this layer's template; 0 for a layer without one.

        >>> from symcnn.layers import Conv2D, Dense, Flatten
        >>> Conv2D(4, 3).template_size((2, 9, 9)), Dense(3).template_size((50,)), Flatten().template_size((2, 3, 3))
        (18, 50, 0)
        """
        return 0

    def positions_reading(self, index, input_shape, output_shape) -> list | None:
        """The output positions whose expression reads input entry ``index`` (in position order);
        None: the kind does not say (the graph then looks at every position's substitution)."""
        return None

    def fans(self, shape: tuple[int, ...], convention: str) -> tuple[int, int]:
        """(n_in, n_out) of this layer's parameter array of ``shape`` under a Glorot ``convention``
        (see :func:`symcnn.initializers.initialize`)."""
        raise NotImplementedError(f"{self.describe()}: no parameters")

    def kernel(self, node, template: LayerTemplate, needs_input_gradient: bool):
        """The numeric kernel of this layer at graph ``node``: ``forward(x, params) -> (z, cache)`` and
        ``backward(dL/dz, cache, params, gradients) -> dL/dx`` on channels-last maps, checked against the
        derived ``template``; its ``activation`` (None here) is set by :class:`symcnn.evaluate.CompiledNetwork`."""
        raise NotImplementedError(f"{self.describe()}: no numeric kernel")

    def rolled_indexing(self, node, x_base, w_base) -> RolledIndexing:
        """How this layer's rolled form reads input array ``x_base`` and weight array ``w_base``."""
        raise NotImplementedError(f"{self.describe()}: no rolled form")

    def describe(self) -> str:
        return type(self).__name__

    def config(self) -> dict:
        """The constructor arguments that rebuild this layer, as a JSON-able dict.

        >>> from symcnn.layers import Flatten
        >>> Flatten().config()
        {}
        """
        return {}


class Kernel:
    """A layer's numeric kernel at one graph node, for any batch size: :meth:`new_stage` makes the
    object that runs one batch size, holding that size's indices and buffers (a
    :class:`symcnn.plan.StepPlan` keeps one per layer).

    A stage's ``forward(x, params) -> (z, cache)`` writes z into its own buffer and
    ``backward(dL/dz, cache, params, gradients) -> dL/dx`` writes every parameter's gradient into
    ``gradients[key]`` (a new array where the key is missing); what they return lives until the
    stage's next call. ``activation`` (set by :class:`symcnn.evaluate.CompiledNetwork`) gives each
    stage its own.
    """

    activation = None

    def make_stage(self, batch: int):
        raise NotImplementedError

    def new_stage(self, batch: int):
        """A stage for ``batch`` samples, with its activation's (writing dL/dz where the stage wants it)."""
        stage = self.make_stage(batch)
        if self.activation is not None:
            stage.activation = self.activation.stage(stage.output_shape, getattr(stage, "gradient_buffer", None))
        else:
            stage.activation = None
        return stage


def gradient_target(gradients: dict, key: str, shape) -> np.ndarray:
    """The array to write dL/d``key`` into: ``gradients[key]`` if given (a step's buffer), else a new one put there."""
    target = gradients.get(key)
    if target is None:
        target = gradients[key] = np.empty(shape)
    return target
