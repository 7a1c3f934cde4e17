"""Elementary functions of a CNN as opaque sympy functions with declared derivatives.

Keeping sigmoid, ReLU, log-sum-exp and window maxima opaque (instead of spelling them
with ``exp``/``Max``) keeps expressions small and derivation fast, and lets every
non-smooth point carry an explicit, documented choice that matches PyTorch:

* ReLU'(0) = 0, written ``Step(z)`` with Step(0) = 0;
* the derivative of a window maximum goes to the *first* maximal entry only.

Each function is one class carrying everything about it: its sympy derivative (``fdiff``),
its NumPy implementation (``numpy_implementation``, a plain function whose source is also
what :mod:`symcnn.codegen` emits for Python) and its C source (``c_source(arity)``). The
evaluator and the exporter build their tables from :data:`ELEMENTARY_FUNCTIONS`.

>>> import sympy
>>> z = sympy.Symbol("z")
>>> sympy.diff(Sigmoid(z), z)
(1 - Sigmoid(z))*Sigmoid(z)
>>> sympy.diff(ReLU(z), z)
Step(z)
>>> sympy.diff(LogSigmoid(z), z)
Sigmoid(-z)
"""

from __future__ import annotations

import numpy
import sympy

# NumPy implementations: written with ``numpy.`` only, so that their source stands alone in
# exported code (symcnn.codegen prints them as they are).


def symcnn_sigmoid(z):
    # 1/(1 + e^{-z}) = e^{z}/(1 + e^{z}); with e = e^{-|z|} neither form overflows
    e = numpy.exp(-numpy.abs(z))
    return numpy.where(z >= 0, 1.0, e) / (1.0 + e)


def symcnn_log_sigmoid(z):
    # log sigma(z) = min(z, 0) - log(1 + e^{-|z|})
    return numpy.minimum(z, 0.0) - numpy.log1p(numpy.exp(-numpy.abs(z)))


def symcnn_relu(z):
    return numpy.maximum(z, 0.0)


def symcnn_step(z):
    # ReLU'(z) with ReLU'(0) = 0, as in PyTorch
    return (numpy.asarray(z) > 0).astype(float)


def symcnn_log_sum_exp(*terms):
    # log(sum_k e^{z_k}) = m + log(sum_k e^{z_k - m}) with m the largest term
    stacked = numpy.stack(numpy.broadcast_arrays(*terms))
    largest = stacked.max(axis=0)
    return largest + numpy.log(numpy.exp(stacked - largest).sum(axis=0))


def symcnn_window_max(*entries):
    return numpy.max(numpy.stack(numpy.broadcast_arrays(*entries)), axis=0)


def symcnn_first_max(k, *entries):
    # 1 where entry k is the first maximum of the window (ties go to the first entry)
    return (numpy.argmax(numpy.stack(numpy.broadcast_arrays(*entries)), axis=0) == k).astype(float)


def _c_window_source(helper: str, arity: int) -> str:
    """C source of a window maximum, first-maximum indicator or log-sum-exp of ``arity`` entries."""
    parameters = ", ".join(f"double x{k}" for k in range(arity))
    entries = ", ".join(f"x{k}" for k in range(arity))
    first = "int k, " if helper == "symcnn_first_max" else ""
    body = f"    const double v[{arity}] = {{{entries}}};\n    int best = 0;\n"
    body += f"    for (int i = 1; i < {arity}; i++) if (v[i] > v[best]) best = i;  /* first maximum wins */\n"
    if helper == "symcnn_window_max":
        body += "    return v[best];\n"
    elif helper == "symcnn_first_max":
        body += "    return best == k ? 1.0 : 0.0;\n"
    else:  # log(sum_i e^{v_i}) = m + log(sum_i e^{v_i - m})
        body += f"    double total = 0.0;\n    for (int i = 0; i < {arity}; i++) total += exp(v[i] - v[best]);\n"
        body += "    return v[best] + log(total);\n"
    return f"static double {helper}_{arity}({first}{parameters}) {{\n{body}}}"


class ElementaryFunction(sympy.Function):
    """Base of symcnn's opaque functions: what evaluating and exporting one needs, in one place.

    ``helper``: its name in exported code; ``numpy_implementation``: its NumPy meaning;
    ``unary``: one argument (else the C helper is written per number of entries);
    :meth:`c_source`: its C definition.
    """

    helper = ""
    numpy_implementation = None
    unary = True
    c_unary_source = ""

    @classmethod
    def c_source(cls, arity: int = 1) -> str:
        """The C definition (for a function of many entries: of ``arity`` entries, named ``helper_arity``)."""
        return cls.c_unary_source if cls.unary else _c_window_source(cls.helper, arity)


class _EvaluatesNumerically(ElementaryFunction):
    """Numbers in, number out under ``evalf`` via the function's exp/log definition."""

    def _eval_evalf(self, precision):
        if all(arg.is_number for arg in self.args):
            return self.rewrite(sympy.exp)._eval_evalf(precision)
        return None


def _all_real_numbers(args):
    return all(arg.is_number and arg.is_extended_real for arg in args)


class Sigmoid(_EvaluatesNumerically):
    """The logistic function 1/(1 + e^{-z}); d/dz = sigma(z)(1 - sigma(z))."""

    nargs = 1
    helper, numpy_implementation = "symcnn_sigmoid", staticmethod(symcnn_sigmoid)
    c_unary_source = """static double symcnn_sigmoid(double z) {
    /* 1/(1 + e^{-z}) = e^{z}/(1 + e^{z}); with e = e^{-|z|} neither form overflows */
    const double e = exp(-fabs(z));
    return (z >= 0 ? 1.0 : e) / (1.0 + e);
}"""

    def fdiff(self, argindex=1):
        return Sigmoid(self.args[0]) * (1 - Sigmoid(self.args[0]))

    def _latex(self, printer):
        return rf"\sigma\left({printer._print(self.args[0])}\right)"

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return 1 / (1 + sympy.exp(-z))


class LogSigmoid(_EvaluatesNumerically):
    """log(sigma(z)) = -log(1 + e^{-z}), kept whole so it can be evaluated stably.

    d/dz log sigma(z) = 1 - sigma(z) = sigma(-z).
    """

    nargs = 1
    helper, numpy_implementation = "symcnn_log_sigmoid", staticmethod(symcnn_log_sigmoid)
    c_unary_source = """static double symcnn_log_sigmoid(double z) {
    return fmin(z, 0.0) - log1p(exp(-fabs(z)));
}"""

    def fdiff(self, argindex=1):
        return Sigmoid(-self.args[0])

    def _latex(self, printer):
        return rf"\log\sigma\left({printer._print(self.args[0])}\right)"

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return -sympy.log(1 + sympy.exp(-z))


class Step(ElementaryFunction):
    """Heaviside step with Step(0) = 0 (PyTorch's choice for ReLU'(0)); derivative 0 a.e."""

    nargs = 1
    helper, numpy_implementation = "symcnn_step", staticmethod(symcnn_step)
    c_unary_source = """static double symcnn_step(double z) {
    /* ReLU'(z) with ReLU'(0) = 0, as in PyTorch */
    return z > 0 ? 1.0 : 0.0;
}"""

    @classmethod
    def eval(cls, z):
        if _all_real_numbers([z]):
            return sympy.S.One if z > 0 else sympy.S.Zero
        return None

    def fdiff(self, argindex=1):
        return sympy.S.Zero

    def _latex(self, printer):
        return rf"\mathbf{{1}}\left[{printer._print(self.args[0])} > 0\right]"  # the indicator 1[z > 0]

    def _eval_rewrite_as_Heaviside(self, z, **kwargs):
        return sympy.Heaviside(z, 0)


class ReLU(ElementaryFunction):
    """max(0, z); d/dz = Step(z), so ReLU'(0) = 0 as in PyTorch."""

    nargs = 1
    helper, numpy_implementation = "symcnn_relu", staticmethod(symcnn_relu)
    c_unary_source = """static double symcnn_relu(double z) {
    return z > 0 ? z : 0.0;
}"""

    @classmethod
    def eval(cls, z):
        if _all_real_numbers([z]):
            return sympy.Max(sympy.S.Zero, z)
        return None

    def fdiff(self, argindex=1):
        return Step(self.args[0])

    def _latex(self, printer):
        return rf"\max\left(0, {printer._print(self.args[0])}\right)"

    def _eval_rewrite_as_Max(self, z, **kwargs):
        return sympy.Max(0, z)


class LogSumExp(_EvaluatesNumerically):
    """log(sum_k e^{z_k}); d/dz_k = e^{z_k - LogSumExp(z)} = softmax_k(z)."""

    helper, numpy_implementation, unary = "symcnn_log_sum_exp", staticmethod(symcnn_log_sum_exp), False

    def fdiff(self, argindex=1):
        return sympy.exp(self.args[argindex - 1] - self)

    def _latex(self, printer):
        terms = " + ".join(rf"e^{{{printer._print(a)}}}" for a in self.args)
        return rf"\log\left({terms}\right)"

    def _eval_rewrite_as_exp(self, *args, **kwargs):
        return sympy.log(sympy.Add(*[sympy.exp(a) for a in args]))


class WindowMax(ElementaryFunction):
    """The maximum of a pooling window; d/dx_k = FirstMax(k, x...) (ties: first entry wins)."""

    helper, numpy_implementation, unary = "symcnn_window_max", staticmethod(symcnn_window_max), False

    @classmethod
    def eval(cls, *entries):
        if _all_real_numbers(entries):
            return sympy.Max(*entries)
        return None

    def fdiff(self, argindex=1):
        return FirstMax(sympy.Integer(argindex - 1), *self.args)

    def _latex(self, printer):
        return rf"\max\left({', '.join(printer._print(a) for a in self.args)}\right)"


class FirstMax(ElementaryFunction):
    """1 if entry ``k`` is the first maximum of the rest of the arguments, else 0.

    ``FirstMax(k, x_0, ..., x_{n-1})``; its derivative is 0 almost everywhere.
    """

    helper, numpy_implementation, unary = "symcnn_first_max", staticmethod(symcnn_first_max), False

    @classmethod
    def eval(cls, k, *entries):
        if _all_real_numbers(entries):
            values = [float(e) for e in entries]
            return sympy.S.One if values.index(max(values)) == int(k) else sympy.S.Zero
        return None

    def fdiff(self, argindex=1):
        return sympy.S.Zero

    def _latex(self, printer):
        entries = ", ".join(printer._print(a) for a in self.args[1:])
        return rf"\mathbf{{1}}\left[\operatorname{{argmax}}\left({entries}\right) = {self.args[0]}\right]"


#: Every opaque function with a numeric meaning; the evaluator's and the exporter's tables come from here.
ELEMENTARY_FUNCTIONS = (Sigmoid, LogSigmoid, ReLU, Step, LogSumExp, WindowMax, FirstMax)


class DefinedFunction(sympy.Function):
    """A function defined by an expression of its variables (a user's activation or loss).

    It prints by its name (``latex_name`` in LaTeX), is differentiated through its
    definition, and is replaced by its definition (:func:`expand_definitions`) before
    anything is evaluated or exported. Subclasses are made by :func:`defined_function`.
    """

    variables: tuple = ()
    definition: sympy.Expr = sympy.S.Zero
    latex_name = ""

    @classmethod
    def eval(cls, *args):
        if args and all(arg.is_number for arg in args):  # numbers in: the definition's value
            return cls.definition_at(args)
        return None

    @classmethod
    def definition_at(cls, args) -> sympy.Expr:
        """The definition with the variables replaced by ``args``."""
        return cls.definition.xreplace(dict(zip(cls.variables, args)))

    @classmethod
    def partial(cls, argindex: int) -> sympy.Expr:
        """d definition / d (variable number ``argindex``, from 1), derived by sympy once."""
        if argindex not in cls.derived:
            cls.derived[argindex] = sympy.diff(cls.definition, cls.variables[argindex - 1])
        return cls.derived[argindex]

    def fdiff(self, argindex=1):
        return self.partial(argindex).xreplace(dict(zip(self.variables, self.args)))

    def _eval_evalf(self, precision):
        return self.definition_at(self.args)._eval_evalf(precision)

    def _latex(self, printer):
        return rf"{self.latex_name}\left({', '.join(printer._print(a) for a in self.args)}\right)"


def defined_function(name: str, variables, definition, latex_name: str) -> type:
    """A new :class:`DefinedFunction` called ``name``: ``name(*variables) = definition``.

    >>> z = sympy.Symbol("z", real=True)
    >>> swish = defined_function("swish", (z,), z * Sigmoid(z), r"\\operatorname{swish}")
    >>> x = sympy.Symbol("x")
    >>> swish(x), sympy.diff(swish(x), x)
    (swish(x), x*(1 - Sigmoid(x))*Sigmoid(x) + Sigmoid(x))
    >>> sympy.latex(swish(x))
    '\\\\operatorname{swish}\\\\left(x\\\\right)'
    >>> expand_definitions(swish(x) + 1)
    x*Sigmoid(x) + 1

    Parameters: ``name`` (an identifier), ``variables`` (the symbols ``definition`` is
    written in, in argument order), ``definition`` (a sympy expression), ``latex_name``.
    """
    variables = tuple(variables)
    return type(name, (DefinedFunction,), {"nargs": len(variables), "variables": variables,
                                           "definition": definition, "latex_name": latex_name, "derived": {}})


def expand_definitions(expression):
    """``expression`` with every :class:`DefinedFunction` replaced by its definition, at any depth.

    Leaves an expression without defined functions (or a non-sympy value) as it is.
    """
    if not isinstance(expression, sympy.Basic) or not expression.has(DefinedFunction):
        return expression
    while expression.has(DefinedFunction):  # a definition may hold other defined functions
        expression = expression.replace(lambda e: isinstance(e, DefinedFunction), lambda e: e.definition_at(e.args))
    return expression
