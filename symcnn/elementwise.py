"""An elementwise sympy expression compiled to a fixed sequence of NumPy ufunc calls that write
into given arrays: what a training step runs for an activation, its derived partial and the update.

``lambdify`` turns an expression into a NumPy function that allocates a new array for every
operation; the training step of a network runs the same few expressions thousands of times on
arrays of the same shape. Here the expression is walked once (common subexpressions once): each
node becomes one ufunc call with ``out=`` a temporary allocated once per shape, the last one
writing into the caller's array. An expression holding a function this module does not know is
run by the ``fallback`` (a compiled NumPy function of the same arguments, from
:func:`symcnn.evaluate.compile_expressions`) and copied into the output.

>>> import numpy as np, sympy
>>> z, u = sympy.symbols("z u")
>>> program = ElementwiseProgram(u * z * (1 - z), [z, u])
>>> out = np.empty(3)
>>> program(out, np.array([0.5, 0.25, 1.0]), np.array([4.0, 1.0, 2.0]))
array([1.    , 0.1875, 0.    ])
>>> program.calls
3
"""

from __future__ import annotations

import numpy as np
import sympy

from .functions import ReLU, Sigmoid, Step, expand_definitions

#: sympy functions of one argument that are one NumPy ufunc each.
UNARY_UFUNCS = {sympy.exp: np.exp, sympy.log: np.log, sympy.tanh: np.tanh, sympy.sinh: np.sinh,
                sympy.cosh: np.cosh, sympy.sin: np.sin, sympy.cos: np.cos, sympy.Abs: np.abs,
                sympy.atan: np.arctan, sympy.sign: np.sign}


#: ufuncs whose result is boolean, and those that mix one boolean operand with a float one correctly.
COMPARISONS = (np.greater, np.greater_equal, np.less, np.less_equal, np.equal)
BOOLEAN_SAFE = (np.multiply, np.maximum, np.minimum)


class Unsupported(Exception):
    """The expression holds something this module does not compile (the fallback runs it)."""


class ElementwiseProgram:
    """``expression`` of ``arguments`` as ufunc calls into given arrays: ``program(out, *values)``.

    ``values`` are arrays of ``out``'s shape or numbers (broadcast as NumPy does); the result is
    written into ``out`` and returned. Temporaries are allocated once per output shape.
    :attr:`argument` is the index of the argument the expression *is* (e.g. ``u * 1``), else None:
    a caller may then use that value itself instead of a copy.

    Parameters: ``expression`` (sympy), ``arguments`` (its symbols, in call order), ``fallback``
    (a function of no arguments returning a NumPy function of the arguments; called once, only if
    the expression cannot be compiled here).
    """

    def __init__(self, expression, arguments, fallback=None):
        self.arguments = list(arguments)
        expression = expand_definitions(expression)
        self.steps, self.dtypes, self.slots = [], [], {}
        self.argument = self.arguments.index(expression) if expression in self.arguments else None
        self.fallback = None
        try:
            self.result = self._emit(expression)
        except Unsupported:
            if fallback is None:
                raise
            self.steps, self.dtypes, self.fallback = [], [], fallback()
            return
        if isinstance(self.result, int) and self.result >= len(self.arguments) and self.steps:
            self._write_result_into_out()
        else:  # the expression is an argument or a number: one copy
            self.steps.append((np.positive, self.result, None, len(self.arguments) + len(self.dtypes)))
        self._temporaries = {}

    @property
    def calls(self) -> int:
        """Number of NumPy calls one evaluation makes."""
        return len(self.steps) if self.fallback is None else 1

    def __call__(self, out, *values):
        if self.fallback is not None:
            np.copyto(out, self.fallback(*values))
            return out
        temporaries = self._temporaries.get(out.shape)
        if temporaries is None:
            temporaries = self._temporaries[out.shape] = [np.empty(out.shape, dtype) for dtype in self.dtypes]
        slots = list(values) + temporaries + [out]
        for function, first, second, target in self.steps:
            first = slots[first] if first.__class__ is int else first
            if second is None:
                function(first, out=slots[target])
            else:
                function(first, slots[second] if second.__class__ is int else second, out=slots[target])
        return out

    # -- compiling -------------------------------------------------------------------------
    def _temporary(self, dtype=float) -> int:
        self.dtypes.append(dtype)
        return len(self.arguments) + len(self.dtypes) - 1

    def _is_bool(self, slot) -> bool:
        index = slot - len(self.arguments) if slot.__class__ is int else -1
        return index >= 0 and self.dtypes[index] is bool

    def _call(self, function, first, second=None, target=None) -> int:
        """One ufunc call into a new temporary (or ``target``). A comparison writes booleans (a quarter
        of the memory traffic of floats); a boolean operand is converted to float first unless the
        ufunc mixes it with a float correctly (a product, maximum or minimum with one float operand)."""
        if function not in COMPARISONS:
            booleans = [slot for slot in (first, second) if self._is_bool(slot)]
            if booleans and not (function in BOOLEAN_SAFE and len(booleans) == 1 and second is not None):
                first, second = [self._float(slot) if self._is_bool(slot) else slot for slot in (first, second)]
        if target is None:
            target = self._temporary(bool if function in COMPARISONS else float)
        self.steps.append((function, first, second, target))
        return target

    def _float(self, slot) -> int:
        target = self._temporary()
        self.steps.append((np.add, slot, 0.0, target))
        return target

    def _write_result_into_out(self):
        """Every step that writes or reads the result's temporary uses ``out`` instead (the last slot)."""
        result, out = self.result, len(self.arguments) + len(self.dtypes)
        self.steps = [tuple(out if field == result and isinstance(field, int) else field for field in step)
                      for step in self.steps]

    def _emit(self, expression):
        """The slot (int) or number holding ``expression``'s value, emitting the calls it needs."""
        if expression in self.slots:
            return self.slots[expression]
        if expression in self.arguments:
            return self.arguments.index(expression)
        if expression.is_number:
            try:
                return float(expression)
            except TypeError:
                raise Unsupported(expression) from None
        slot = self._emit_operation(expression)
        self.slots[expression] = slot
        return slot

    def _emit_operation(self, expression):
        if isinstance(expression, sympy.Add):
            return self._emit_sum(expression)
        if isinstance(expression, sympy.Mul):
            return self._emit_product(expression)
        if isinstance(expression, sympy.Pow):
            return self._emit_power(*expression.args)
        if isinstance(expression, Sigmoid):
            return self._emit_sigmoid(self._emit(expression.args[0]))
        if isinstance(expression, ReLU):
            return self._call(np.maximum, self._emit(expression.args[0]), 0.0)
        if isinstance(expression, Step):  # z > 0 (Step(0) = 0), as booleans
            return self._call(np.greater, self._emit(expression.args[0]), 0.0)
        if isinstance(expression, (sympy.Max, sympy.Min)) and len(expression.args) == 2:
            function = np.maximum if isinstance(expression, sympy.Max) else np.minimum
            return self._call(function, *[self._emit(a) for a in expression.args])
        ufunc = UNARY_UFUNCS.get(expression.func)
        if ufunc is not None and len(expression.args) == 1:
            return self._call(ufunc, self._emit(expression.args[0]))
        raise Unsupported(expression)

    def _emit_sum(self, expression):
        # a - b as one subtraction: terms with a negative coefficient are subtracted
        positive, negative = [], []
        for term in expression.args:
            coefficient, rest = term.as_coeff_Mul()
            (negative if coefficient < 0 else positive).append(-term if coefficient < 0 else term)
        if not positive:
            return self._call(np.negative, self._emit(sympy.Add(*negative)))
        total = self._emit(positive[0])
        for term in positive[1:]:
            total = self._call(np.add, total, self._emit(term))
        for term in negative:
            total = self._call(np.subtract, total, self._emit(term))
        return total

    def _emit_product(self, expression):
        coefficient, rest = expression.as_coeff_Mul()
        if coefficient == -1:
            return self._call(np.negative, self._emit(rest))
        factors = [self._emit(f) for f in sympy.Mul.make_args(rest)]
        product = factors[0]
        for factor in factors[1:]:
            product = self._call(np.multiply, product, factor)
        if coefficient != 1:
            product = self._call(np.multiply, product, float(coefficient))
        return product

    def _emit_power(self, base, exponent):
        base_slot = self._emit(base)
        if exponent == -1:
            return self._call(np.divide, 1.0, base_slot)
        if exponent == 2:
            return self._call(np.multiply, base_slot, base_slot)
        if exponent == sympy.Rational(1, 2):
            return self._call(np.sqrt, base_slot)
        return self._call(np.power, base_slot, self._emit(exponent))

    def _emit_sigmoid(self, z):
        """sigma(z) = 1/(1 + e^{-z}), relatively accurate for every z; e^{-z} is taken at min(-z, 709)
        so that it cannot overflow (below z = -709 sigma is under 1e-307 either way)."""
        e = self._call(np.negative, z)
        self._call(np.minimum, e, 709.0, target=e)
        self._call(np.exp, e, target=e)
        self._call(np.add, e, 1.0, target=e)
        return self._call(np.divide, 1.0, e)
