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

import keyword
import numbers

import sympy
from sympy.codegen.cfunctions import expm1

from .expressions import defining_expression
from .functions import LogSigmoid, ReLU, Sigmoid, defined_function

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

#: Built-in activations by name: a sympy function of the pre-activation. ``softmax`` is not
#: elementwise; it is only allowed on the last layer, where it is joined with the loss.
ACTIVATIONS = {
    None: lambda z: z,
    "identity": lambda z: z,
    "sigmoid": Sigmoid,
    "relu": ReLU,
    "tanh": sympy.tanh,
    "softmax": None,
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
    """The sympy function of z that ``activation`` (a built-in name or an :class:`Activation`) applies.

    >>> activation_function("tanh")(Z)
    tanh(z)
    """
    return activation if isinstance(activation, Activation) else ACTIVATIONS[activation]
