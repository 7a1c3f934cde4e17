"""Activation functions: the built-in ones by name, and any other one defined from a sympy expression.

An :class:`Activation` is a name and a function z -> sympy expression. sympy derives its
derivative; formulas show it by its name (``latex`` in LaTeX); the evaluator and the
exporter replace it by its definition. The library's own newer activations are written
exactly this way: :func:`leaky_relu`, :func:`elu`, :data:`softplus`, :data:`silu`,
:data:`gelu`.

>>> import sympy
>>> swish = Activation("swish", lambda z: z * Sigmoid(z))
>>> swish
Activation('swish', z*Sigmoid(z))
>>> swish.derivative
z*(1 - Sigmoid(z))*Sigmoid(z) + Sigmoid(z)
>>> x = sympy.Symbol("x")
>>> swish(x), sympy.latex(swish(x))
(swish(x), '\\\\operatorname{swish}\\\\left(x\\\\right)')

The built-ins written this way, and their derivatives as sympy derives them:

>>> [str(activation.derivative) for activation in (softplus, silu)]
['Sigmoid(z)', 'z*(1 - Sigmoid(z))*Sigmoid(z) + Sigmoid(z)']
>>> gelu.expression
z*Sigmoid(2*sqrt(2)*(0.044715*z**3 + z)/sqrt(pi))

Non-smooth points follow PyTorch: leaky_relu'(0) is the negative slope, elu'(0) = alpha
(ReLU'(0) = 0 as ``Step(0) = 0``; see :mod:`symcnn.functions`).
"""

from __future__ import annotations

import functools
import keyword
import numbers
from dataclasses import dataclass

import numpy as np
import sympy
from sympy.codegen.cfunctions import expm1

from .expressions import defining_expression
from .functions import LogSigmoid, LogSumExp, ReLU, Sigmoid, defined_function

#: The one argument every activation's definition is written in.
Z = sympy.Symbol("z", real=True)


def check_name(name, what: str) -> str:
    """``name`` if it is a str that is a Python identifier (and not a keyword), else raise.

    >>> check_name("swish", "Activation")
    'swish'
    """
    if not isinstance(name, str):
        raise TypeError(f"{what}: name must be a str, got {type(name).__name__} {name!r}")
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"{what}: name must be an identifier (letters, digits and _, not starting with "
                         f"a digit), got {name!r}")
    return name


def check_latex(latex, name: str, what: str) -> str:
    r"""``latex`` if it is a str, or ``\operatorname{name}`` for None."""
    if latex is None:
        return r"\operatorname{%s}" % name.replace("_", r"\_")
    if not isinstance(latex, str) or not latex.strip():
        raise TypeError(f"{what}: latex must be a non-empty str (or None for \\operatorname{{{name}}}), "
                        f"got {latex!r}")
    return latex


class NamedDefinition:
    """A named function defined by a sympy expression of fixed variables; base of Activation and Loss.

    Holds ``name``, ``latex``, ``expression`` (the checked definition, see
    :func:`symcnn.expressions.defining_expression`) and ``function``, the sympy function
    ``name(...)`` that formulas hold (see :func:`symcnn.functions.defined_function`).
    Two definitions are equal when kind, name, LaTeX and expression are.
    """

    kind = "Definition"
    variables: tuple = ()

    def __init__(self, name, f, latex=None):
        what = f"{self.kind} {name!r}"
        self.name = check_name(name, self.kind)
        self.latex = check_latex(latex, name, what)
        self.expression = defining_expression(f, self.variables, what)
        self.function = defined_function(self.name, self.variables, self.expression, self.latex)

    @property
    def derivative(self) -> sympy.Expr:
        """The derivative of the definition by its first variable, derived by sympy."""
        return self.function.partial(1)

    def __call__(self, *arguments):
        """The function applied to sympy expressions (kept whole, shown by its name)."""
        return self.function(*arguments)

    def _key(self):
        return (type(self), self.name, self.latex, self.expression)

    def __eq__(self, other):
        return isinstance(other, NamedDefinition) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return f"{self.kind}({self.name!r}, {self.expression})"

    def __str__(self):
        return self.name


class Activation(NamedDefinition):
    """An elementwise activation a = f(z), given as a sympy expression; usable wherever a built-in name is.

    >>> softsign = Activation("softsign", lambda z: z / (1 + sympy.Abs(z)), latex=r"\\operatorname{softsign}")
    >>> softsign.derivative
    -z*sign(z)/(Abs(z) + 1)**2 + 1/(Abs(z) + 1)

    Parameters: ``name``, an identifier shown in text; ``f``, a function taking the sympy
    symbol z (:data:`Z`) and returning a sympy expression in z alone, built from sympy's
    elementary functions (exp, log, tanh, Abs, ...) and symcnn's (``sc.sigmoid``,
    ``sc.relu``, ``sc.step``, ``sc.log_sigmoid``); ``latex``, the function's name in LaTeX
    (default ``\\operatorname{name}``). Raises ``TypeError``/``ValueError`` naming the problem.
    """

    kind = "Activation"
    variables = (Z,)


def exact_number(value, argument: str, what: str):
    """A finite real parameter as an exact sympy Integer when whole, else a float64 Float.

    >>> exact_number(2.0, "delta", "huber"), exact_number(0.01, "negative_slope", "leaky_relu")
    (2, 0.0100000000000000)
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not abs(float(value)) < float("inf"):
        raise TypeError(f"{what}: {argument} must be a finite real number, got {value!r}")
    return sympy.Integer(int(value)) if float(value).is_integer() else sympy.Float(float(value))


def leaky_relu(negative_slope=0.01) -> Activation:
    """Leaky ReLU: z for z > 0, ``negative_slope`` z otherwise (as ``torch.nn.functional.leaky_relu``).

    Written as s z + (1 - s) ReLU(z), so its derivative s + (1 - s) Step(z) is s at 0, as in PyTorch.

    >>> leaky_relu(0.2).derivative
    0.8*Step(z) + 0.2
    """
    slope = exact_number(negative_slope, "negative_slope", "leaky_relu")
    latex = r"\operatorname{LeakyReLU}" + ("" if negative_slope == 0.01 else "_{%s}" % sympy.latex(slope))
    return Activation("leaky_relu", lambda z: slope * z + (1 - slope) * ReLU(z), latex)


def elu(alpha=1.0) -> Activation:
    """ELU: z for z > 0, alpha (e^z - 1) otherwise (as ``torch.nn.functional.elu``).

    Written as ReLU(z) + alpha expm1(z - ReLU(z)) (z - ReLU(z) = min(z, 0) never overflows
    e^z); its derivative Step(z) + alpha e^{min(z, 0)} (1 - Step(z)) is alpha at 0, as in PyTorch.

    >>> elu().derivative
    (1 - Step(z))*exp(z - ReLU(z)) + Step(z)
    """
    scale = exact_number(alpha, "alpha", "elu")
    latex = r"\operatorname{ELU}" + ("" if alpha == 1 else "_{%s}" % sympy.latex(scale))
    return Activation("elu", lambda z: ReLU(z) + scale * expm1(z - ReLU(z)), latex)


#: softplus(z) = log(1 + e^z) = -log sigma(-z), finite for every z; derivative sigma(z).
#: PyTorch's ``softplus`` returns z itself above its threshold z > 20, where the two differ
#: by log(1 + e^{-z}) < 2.1e-9.
softplus = Activation("softplus", lambda z: -LogSigmoid(-z), r"\operatorname{softplus}")

#: SiLU (swish): z sigma(z), as ``torch.nn.functional.silu``.
silu = Activation("silu", lambda z: z * Sigmoid(z), r"\operatorname{SiLU}")

#: GELU, tanh approximation (PyTorch's ``gelu(z, approximate="tanh")``):
#: z/2 (1 + tanh(u)) with u = sqrt(2/pi) (z + 0.044715 z^3), written as z sigma(2u) (the same
#: function, since (1 + tanh u)/2 = sigma(2u)), which keeps its relative precision for z < -5
#: where 1 + tanh(u) cancels.
gelu = Activation("gelu", lambda z: z * Sigmoid(2 * sympy.sqrt(2 / sympy.pi) * (z + sympy.Float(0.044715) * z**3)),
                  r"\operatorname{GELU}")

def _in_range(expression, delta_base=None):
    """``expression`` with each Piecewise on index ranges replaced by its first piece, and
    (given ``delta_base``) delta_base[k] KroneckerDelta(k, m) written delta_base[m] KroneckerDelta(k, m).

    ``Sum(f_j KroneckerDelta(j, m), (j, 0, K - 1)).doit()`` is a Piecewise whose first piece,
    f_m, holds when every index is in 0..K-1; every index of a softmax's outputs is.
    """
    def moved_delta(product):
        delta = next(f for f in product.args if isinstance(f, sympy.KroneckerDelta))
        k, m = delta.args
        return product.xreplace({delta_base[k]: delta_base[m]})

    expression = expression.replace(lambda e: isinstance(e, sympy.Piecewise) and e.args[-1].expr == 0,
                                    lambda e: e.args[0].expr)
    if delta_base is None:
        return expression
    return sympy.expand(expression).replace(
        lambda e: isinstance(e, sympy.Mul) and any(isinstance(f, sympy.KroneckerDelta) for f in e.args), moved_delta)


class Softmax:
    r"""The softmax over a layer's K outputs, a_k = e^{z_k} / sum_j e^{z_j}: the one activation that couples outputs.

    Its partials are derived once by sympy in indexed form (any K), then written in the outputs:

    >>> SOFTMAX.partial_of_output
    (KroneckerDelta(k, m) - a[m])*a[k]
    >>> SOFTMAX.partial_of_log_output
    KroneckerDelta(k, m) - a[m]
    >>> SOFTMAX.partial_of_log_complement
    (1 - KroneckerDelta(k, m))*exp(-Lbar[k] + z[m]) - a[m]

    read: d a_k / d z_m = a_k (delta_km - a_m), d log a_k / d z_m = delta_km - a_m and
    d log(1 - a_k) / d z_m = [m != k] e^{z_m - Lbar_k} - a_m, where Lbar_k = log sum_{j != k} e^{z_j}.
    The evaluator runs the vector-Jacobian products of these (:meth:`backward_output` and its
    siblings) on whole batches; formulas hold :meth:`outputs`, exp(z_k - LogSumExp(z)).
    """

    name = "softmax"
    latex = r"\operatorname{softmax}"
    #: a_k depends on every z of its layer, not on z_k alone
    elementwise = False

    def __init__(self):
        z, a, rest = sympy.IndexedBase("z", real=True), sympy.IndexedBase("a"), sympy.IndexedBase("Lbar")
        k, m, j = (sympy.Symbol(name, integer=True, nonnegative=True) for name in "kmj")
        count = sympy.Symbol("K", integer=True, positive=True)
        self.z, self.a, self.Lbar, self.k, self.m, self.j, self.count = z, a, rest, k, m, j, count
        self.normaliser = sympy.Sum(sympy.exp(z[j]), (j, 0, count - 1))
        self.others = sympy.Sum(sympy.exp(z[j]) * (1 - sympy.KroneckerDelta(j, k)), (j, 0, count - 1))
        self.total = sympy.Symbol("S", positive=True)  # sum_j e^{z_j}, named while the partials are derived
        self.general_output = sympy.exp(z[k]) / self.normaliser

    # the partials are derived when first read (inspection reads them; training runs the numeric products)
    def _derived(self, expression, delta_base=None):
        """d expression / d z_m, the sums named before .doit() evaluates the differentiated ones."""
        sums = {self.normaliser: self.total, self.others: sympy.exp(self.Lbar[self.k])}
        return _in_range(sympy.diff(expression, self.z[self.m]).xreplace(sums).doit(), delta_base)

    def _in_outputs(self, expression):
        """``expression`` with e^{z_i} = a_i S, factored."""
        z = self.z
        return sympy.factor(expression.replace(
            lambda e: isinstance(e, sympy.exp) and isinstance(e.args[0], sympy.Indexed) and e.args[0].base == z,
            lambda e: self.a[e.args[0].indices[0]] * self.total))

    @functools.cached_property
    def partial_of_output(self):
        return self._in_outputs(self._derived(self.general_output))

    @functools.cached_property
    def partial_of_log_output(self):
        return sympy.expand(self._in_outputs(self._derived(self.z[self.k] - sympy.log(self.normaliser))))

    @functools.cached_property
    def partial_of_log_complement(self):
        z, m = self.z, self.m
        # only the normaliser's term is written in the outputs: e^{z_m} / S = a_m
        partial = self._derived(sympy.log(self.others) - sympy.log(self.normaliser), z).xreplace(
            {self.total: sympy.exp(z[m]) / self.a[m]})
        return sympy.collect(sympy.powsimp(partial), sympy.exp(z[m] - self.Lbar[self.k]))

    @functools.cached_property
    def diagonal_partial(self):
        """d a_k / d z_k in a[0], for instantiating one partial."""
        return self.partial_of_output.xreplace({self.k: 0, self.m: 0}).doit()

    @functools.cached_property
    def off_diagonal_partial(self):
        """d a_k / d z_m, k != m, in a[0] and a[1]."""
        return self.partial_of_output.xreplace({self.k: 0, self.m: 1}).doit()

    def __repr__(self):
        return "SOFTMAX"

    def __str__(self):
        return self.name

    # symbolic: the outputs of named logits
    def outputs(self, logits) -> list:
        """a_k = e^{z_k - LogSumExp(z)} for each logit z_k (finite for any logits)."""
        normaliser = LogSumExp(*logits)
        return [sympy.exp(z - normaliser) for z in logits]

    def log_output(self, logits, k) -> sympy.Expr:
        """log a_k = z_k - LogSumExp(z)."""
        return logits[k] - LogSumExp(*logits)

    def log_complement(self, logits, k) -> sympy.Expr:
        """log(1 - a_k) = LogSumExp(z_j, j != k) - LogSumExp(z) (K >= 2)."""
        return LogSumExp(*[z for j, z in enumerate(logits) if j != k]) - LogSumExp(*logits)

    def partial(self, outputs, k, m) -> sympy.Expr:
        """d a_k / d z_m in the named ``outputs``, from the derived indexed partial (its diagonal and
        off-diagonal forms)."""
        if k == m:
            return self.diagonal_partial.xreplace({self.a[0]: outputs[k]})
        return self.off_diagonal_partial.xreplace({self.a[0]: outputs[k], self.a[1]: outputs[m]})

    def rolled(self, z_base, a_base, k, m, count) -> tuple[sympy.Expr, sympy.Expr]:
        """(a_k = e^{z_k} / sum_m e^{z_m} in z_base, d a_k / d z_m in a_base) for the rolled (indexed) form
        over ``count`` outputs; ``k`` and ``m`` are the index symbols to write them in."""
        written = {self.z: z_base, self.a: a_base, self.k: k, self.m: m, self.count: count}
        output = self.general_output.xreplace({self.z: z_base, self.k: k, self.j: m, self.count: count})
        return output, self.partial_of_output.xreplace(written)

    # numeric: rows of a batch, shape (N, K)
    @staticmethod
    def values(z, complement=False) -> "SoftmaxValues":
        """a = softmax(z), log a and (``complement``) log(1 - a) of logits z (N, K), finite for any logits.

        log a = z - max - log sum e^{z - max}. log(1 - a_k) is log1p(-a_k) where a_k <= 1/2; for a
        row's one larger output (its largest) it is Lbar_k - log sum_j e^{z_j} with Lbar_k = log sum_{j != k} e^{z_j}
        computed directly, since 1 - a_k may have rounded to 0.
        """
        largest = z.max(axis=1, keepdims=True)
        shifted = z - largest
        exponentials = np.exp(shifted)
        sums = exponentials.sum(axis=1, keepdims=True)
        log_sums = np.log(sums)
        values = SoftmaxValues(exponentials / sums, shifted - log_sums)
        if complement:
            rows, top = np.arange(len(z)), z.argmax(axis=1)
            values.rows, values.top = rows, top
            log_normaliser = largest + log_sums
            others = z.copy()
            others[rows, top] = -np.inf
            second = others.max(axis=1, keepdims=True)
            values.log_others = second + np.log(np.exp(others - second).sum(axis=1, keepdims=True))  # Lbar_top
            values.large = values.a[rows, top] > 0.5
            log_q = np.log1p(-np.minimum(values.a, 0.5))
            log_q[rows, top] = np.where(values.large, (values.log_others - log_normaliser)[:, 0], log_q[rows, top])
            values.log_q, values.others = log_q, others
        return values

    @staticmethod
    def backward_output(g, values) -> np.ndarray:
        """sum_k g_k d a_k / d z_m = a_m (g_m - sum_k g_k a_k)."""
        a = values.a
        return a * (g - np.einsum("nk,nk->n", g, a)[:, None])

    @staticmethod
    def backward_log_output(g, values) -> np.ndarray:
        """sum_k g_k d log a_k / d z_m = g_m - a_m sum_k g_k."""
        return g - values.a * g.sum(axis=1, keepdims=True)

    @staticmethod
    def backward_log_complement(g, values) -> np.ndarray:
        """sum_k g_k d log(1 - a_k) / d z_m = sum_{k != m} g_k e^{z_m - Lbar_k} - a_m sum_k g_k.

        e^{z_m - Lbar_k} = a_m / (1 - a_k) = a_m e^{-log(1 - a_k)}, at most 2 a_m where a_k <= 1/2;
        for a row's one larger a_k it is e^{z_m - Lbar_k} itself (at most 1 for m != k).
        """
        a, rows, top, large = values.a, values.rows, values.top, values.large
        weighted = g * np.exp(-values.log_q * (a <= 0.5))  # g_k / (1 - a_k); the large a_k's share is below
        weighted[rows, top] *= ~large
        result = a * (weighted.sum(axis=1, keepdims=True) - weighted - g.sum(axis=1, keepdims=True))
        result += (g[rows, top] * large)[:, None] * np.exp(values.others - values.log_others)  # others: z, -inf at k
        return result


@dataclass
class SoftmaxValues:
    """What one softmax pass over logits z (N, K) computed, for the backward products (:meth:`Softmax.values`)."""

    a: np.ndarray
    log_a: np.ndarray
    rows: np.ndarray | None = None  # with the complement: 0..N-1
    top: np.ndarray | None = None  # and each row's largest logit
    large: np.ndarray | None = None  # whether that output's a exceeds 1/2
    log_q: np.ndarray | None = None  # log(1 - a)
    others: np.ndarray | None = None  # z with the top entry -inf
    log_others: np.ndarray | None = None  # Lbar of the top entry, (N, 1)


#: The softmax activation (use the name ``"softmax"``).
SOFTMAX = Softmax()

#: Built-in activations by name: a sympy function of the pre-activation, or :data:`SOFTMAX`,
#: which couples a Dense layer's outputs and is only allowed on the last layer.
ACTIVATIONS = {
    None: lambda z: z,
    "identity": lambda z: z,
    "sigmoid": Sigmoid,
    "relu": ReLU,
    "tanh": sympy.tanh,
    "softmax": SOFTMAX,
    "leaky_relu": leaky_relu(),
    "elu": elu(),
    "softplus": softplus,
    "silu": silu,
    "gelu": gelu,
}


def check_activation(activation):
    """Return ``activation`` if it is a built-in name, None or an :class:`Activation`, else raise.

    >>> check_activation("relu")
    'relu'
    """
    if isinstance(activation, Activation):
        return activation
    if not (activation is None or isinstance(activation, str)) or activation not in ACTIVATIONS:
        choices = ", ".join(repr(a) for a in ACTIVATIONS)
        hint = ""
        names = {Sigmoid: "sigmoid", ReLU: "relu", sympy.tanh: "tanh"}
        if isinstance(activation, type) and activation in names:
            hint = f"; {activation.__name__} is a sympy function: pass the name {names[activation]!r}"
        elif activation in (leaky_relu, elu):
            name = activation.__name__
            hint = f"; {name} makes an activation: call it, {name}() or with its parameter"
        elif callable(activation):
            hint = "; wrap a function of z in symcnn.Activation(name, f)"
        raise ValueError(f"unknown activation {activation!r}; expected one of {choices}, or a "
                         f"symcnn.Activation{hint}")
    return activation


def activation_function(activation):
    """The sympy function of z that ``activation`` (a built-in name or an :class:`Activation`) applies,
    or :data:`SOFTMAX` for ``"softmax"``.

    >>> activation_function("tanh")(Z)
    tanh(z)
    """
    return activation if isinstance(activation, Activation) else ACTIVATIONS[activation]


def is_elementwise(activation) -> bool:
    """Whether each output a_k of ``activation`` depends on its own z_k only (all but the softmax).

    >>> is_elementwise("relu"), is_elementwise("softmax")
    (True, False)
    """
    return getattr(activation_function(activation), "elementwise", True)
