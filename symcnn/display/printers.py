"""sympy printers (LaTeX, one-line text, 2-D text) that write math in textbook order.

Products go in chain-rule order and sums by index (see :mod:`.ordering`); a sum of more
than ``terms`` terms is shortened to its first ``terms - 1`` terms, dots and its last term,
with the count of terms; named scalars print as indexed names.

>>> import symcnn as sc
>>> net = sc.presets.network_a()
>>> z = net.graph.layer_nodes[0].weighted_sum_at((0, 0, 0))
>>> LatexPrinter(terms=3).doprint(z)
'\\\\underbrace{w^{(1)}_{0,0,0,0} x_{0,0,0} + w^{(1)}_{0,0,0,1} x_{0,0,1} + \\\\cdots + w^{(1)}_{0,0,2,2} x_{0,2,2}}_{9 \\\\text{ terms}}'
>>> TextPrinter(terms=3).doprint(z)
'w⁽¹⁾[0,0,0,0]*x[0,0,0] + w⁽¹⁾[0,0,0,1]*x[0,0,1] + … + w⁽¹⁾[0,0,2,2]*x[0,2,2] [9 terms]'
"""

from __future__ import annotations

import sympy
from sympy.printing.latex import LatexPrinter as _SympyLatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pretty.pretty import PrettyPrinter as _SympyPrettyPrinter
from sympy.printing.pretty.stringpict import prettyForm
from sympy.printing.str import StrPrinter as _SympyStrPrinter

from ..checks import check_int
from ..naming import NamedScalar, text_name
from .ordering import chain_rule_factors, ordered_terms

#: How many terms of a long sum are shown by default (the first ones, dots, the last).
DEFAULT_TERMS = 5


class Dots(sympy.Symbol):
    """The terms left out of a shortened sum: ``\\cdots`` in LaTeX, ``…`` in text."""

    def __new__(cls):
        return super().__new__(cls, "dots")

    def _latex(self, printer):
        return r"\cdots"

    def _sympystr(self, printer):
        return "…"

    def _pretty(self, printer):
        return prettyForm("⋯")


def check_terms(terms):
    """``terms`` if it is None (every term) or an int >= 2 (first terms, dots, last term)."""
    return check_int(terms, "terms (None: every term)", allow_none=True, minimum=2)


def shortened(items, terms=DEFAULT_TERMS, dots=None) -> tuple:
    """(the items a sum shows, the count of all items if some are left out, else None).

    More than ``terms`` items are shortened to the first ``terms - 1``, ``dots`` and the
    last; ``terms=None`` keeps every item. Every shortened sum symcnn prints goes through here.

    >>> shortened(list(range(10)), 4)
    ([0, 1, 2, None, 9], 10)
    >>> shortened([0, 1], 4)
    ([0, 1], None)
    """
    items, terms = list(items), check_terms(terms)
    if terms is None or len(items) <= terms:
        return items, None
    return items[:terms - 1] + [dots] + items[-1:], len(items)


def _plain_product(coefficient, factors) -> bool:
    """True if a product is a number times factors with no denominator (those sympy prints as fractions)."""
    return bool(factors) and (coefficient.is_Integer or coefficient.is_Float) and not any(
        f.is_Pow and f.exp.is_number and f.exp.is_negative for f in factors)


class _TextbookOrder:
    """Printer mixin: terms by index (long sums shortened), factors in chain-rule order."""

    def __init__(self, settings=None, terms=DEFAULT_TERMS):
        super().__init__(settings or {})
        self.terms = check_terms(terms)
        self._terms_to_print = None

    def shown_terms(self, expression) -> tuple:
        """(terms to print, the count of all terms if some are left out, else None)."""
        return shortened(ordered_terms(expression), self.terms, Dots())

    def _as_ordered_terms(self, expr, order=None):
        # sympy's _print_Add asks for the terms first, before printing any (nested) term
        terms, self._terms_to_print = self._terms_to_print, None
        return terms if terms is not None else ordered_terms(expr)

    def _print_Add(self, expr, order=None):
        self._terms_to_print, count = self.shown_terms(expr)
        printed = super()._print_Add(expr, order)
        return printed if count is None else self.counted(printed, count)

    minus, times = "-", "*"  # how a string printer writes -x and x y

    def factor(self, factor, last: bool) -> str:
        """One factor of a product, in brackets if it binds weaker than a product."""
        return self.parenthesize(factor, PRECEDENCE["Mul"], strict=False)

    def _print_Mul(self, expr):
        coefficient, factors = chain_rule_factors(expr)
        if not _plain_product(coefficient, factors):
            return super()._print_Mul(expr)
        if coefficient < 0:
            return self.minus + self._print(-expr)
        parts = [self._print(coefficient)] if coefficient != 1 else []
        return self.times.join(parts + [self.factor(f, k == len(factors) - 1) for k, f in enumerate(factors)])


class LatexPrinter(_TextbookOrder, _SympyLatexPrinter):
    """LaTeX in textbook order; ``terms``: how many terms of a long sum to show (None: all)."""

    def counted(self, printed, count):
        return rf"\underbrace{{{printed}}}_{{{count} \text{{ terms}}}}"

    def _helper_print_standard_power(self, expr, template):
        # a rolled form's array entry carries a superscript, like a named scalar: (z^{(1)}_{f,i,j})^{3}
        if isinstance(expr.base, sympy.Indexed) and isinstance(expr.base.base.label, NamedScalar):
            return template % (self.parenthesize_super(self._print(expr.base)), self._print(expr.exp))
        return super()._helper_print_standard_power(expr, template)

    def _print_Indexed(self, expr):
        """An array entry of a rolled form as the named scalars print: w^{(1)}_{f,c,u,v}, dL/da^{(1)}_{f,i,j}."""
        if not isinstance(expr.base.label, NamedScalar):
            return super()._print_Indexed(expr)
        label, indices = self._print(expr.base.label), ",".join(self._print(i) for i in expr.indices)
        adjoint = r"\frac{\partial L}{\partial "
        if label.startswith(adjoint):  # the index belongs to the scalar below the fraction bar
            return f"{label[:-1]}_{{{indices}}}}}"
        return f"{label}_{{{indices}}}"

    def _print_Sum(self, expr):
        r"""One sum sign per index with its limits, as a textbook nests them: \sum_{u=0}^{2}\sum_{v=0}^{2}."""
        signs = "".join(rf"\sum_{{{self._print(i)}={self._print(low)}}}^{{{self._print(high)}}}"
                        for i, low, high in expr.limits)
        summand = self._print(expr.function)
        return f"{signs} {summand}" if not expr.function.is_Add else rf"{signs} \left({summand}\right)"

    minus, times = "- ", " "

    def factor(self, factor, last: bool) -> str:
        if isinstance(factor, sympy.Sum) and last:  # a trailing sum needs no brackets
            return self._print(factor)
        return super().factor(factor, last)


class TextPrinter(_TextbookOrder, _SympyStrPrinter):
    """One-line text in textbook order, indexed names as ``w⁽²⁾[0,0,1,3]``."""

    def counted(self, printed, count):
        return f"{printed} [{count} terms]"

    def _print_NamedScalar(self, expr):
        return text_name(expr.name)

    def _print_Sum(self, expr):
        """One sign per index with its limits, as the derivation's statements write them: Σ_c=0..4 a[c, i]."""
        signs = " ".join(f"Σ_{self._print(i)}={self._print(low)}..{self._print(high)}" for i, low, high in expr.limits)
        summand = self._print(expr.function)
        return f"{signs} {summand}" if not expr.function.is_Add else f"{signs} ({summand})"

    def _print_Sigmoid(self, expr):
        return f"σ({self._print(expr.args[0])})"

    def _print_Step(self, expr):  # ReLU'(z): 1 where z > 0, else 0 (0 at 0, as PyTorch)
        return f"𝟙[{self._print(expr.args[0])} > 0]"

    def _print_ReLU(self, expr):
        return f"max(0, {self._print(expr.args[0])})"

    def _print_WindowMax(self, expr):
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_KroneckerDelta(self, expr):  # softmax's partial p_m (delta_km - p_k)
        return f"δ[{', '.join(self._print(i) for i in expr.args)}]"

    def _print_FirstMax(self, expr):  # d max / d entry k: 1 if entry k is the first maximum
        return f"𝟙[argmax({', '.join(self._print(a) for a in expr.args[1:])}) = {expr.args[0]}]"



class PrettyPrinter(_TextbookOrder, _SympyPrettyPrinter):
    """2-D unicode text in textbook order, for a terminal."""

    def __init__(self, settings=None, terms=DEFAULT_TERMS):
        super().__init__({"use_unicode": True, **(settings or {})}, terms)

    def counted(self, printed, count):
        return prettyForm(*printed.right(f" [{count} terms]"), binding=prettyForm.ADD)

    def _print_NamedScalar(self, expr):
        return prettyForm(text_name(expr.name))

    def _print_Indexed(self, expr):  # an array entry of a rolled form, w⁽¹⁾[f, c, u, v]; also max, argmax
        return prettyForm(TextPrinter(terms=self.terms).doprint(expr))

    _print_WindowMax = _print_FirstMax = _print_KroneckerDelta = _print_Indexed

    def _print_ReLU(self, expr):
        inside = prettyForm(*self._print(expr.args[0]).left("0, "))
        inside = prettyForm(*inside.parens())
        return prettyForm(*inside.left("max"))

    def _print_Sigmoid(self, expr):
        inside = prettyForm(*self._print(expr.args[0]).parens())
        return prettyForm(*inside.left("σ"))

    def _print_Step(self, expr):
        inside = prettyForm(*self._print(expr.args[0]).right(" > 0"))
        inside = prettyForm(*inside.parens("[", "]"))
        return prettyForm(*inside.left("𝟙"))

    def _print_Mul(self, product):
        coefficient, factors = chain_rule_factors(product)
        if not _plain_product(coefficient, factors):
            return super()._print_Mul(product)
        forms = ([self._print(coefficient)] if coefficient != 1 else []) + [self._print(f) for f in factors]
        return forms[0].__mul__(*forms[1:])  # -1 first becomes a minus sign; brackets by binding

