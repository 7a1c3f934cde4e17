r"""A derivation (:class:`symcnn.derivation.Derivation`) as terminal text and as LaTeX.

Each step is written as a textbook writes it: the general statement (its local partial in
rolled form), the same at one position in named scalars, factor by factor in chain-rule
order (upstream first, then the local partial), the numbers, and the sum with its count.
Every formula goes through the textbook printers of :mod:`.formulas` (a(1 - a), not
(1 - a) a); a long sum is shortened as every sum is (:func:`.printers.shortened`: first
terms, dots, last term, ``terms=None`` for all) and broken over lines wider than ``width``
(:func:`.formulas.broken_lines`). :func:`derivation_latex` returns bare math, which
``Derivation._repr_latex_`` wraps with :func:`.formulas.display_math`.
"""

from __future__ import annotations

import math
import textwrap

from sympy.printing.precedence import PRECEDENCE, precedence

from ..naming import adjoint_symbol
from .formulas import (DEFAULT_WIDTH, TEXT_WIDTH, broken_lines, check_width, derivative_latex, derivative_text,
                       formula_latex, formula_text, rendered_width)
from .ledgers import latex_number
from .printers import DEFAULT_TERMS, LatexPrinter, shortened


# -- pieces -----------------------------------------------------------------------------------------
def _text(expression, left=None) -> str:
    """Pretty text (a⋅(1 - a)) where it fits on one line, else plain one-line text (fractions as /)."""
    pretty = formula_text(expression, left=left, width=None)
    return pretty if "\n" not in pretty else formula_text(expression, left=left, one_line=True)


def _latex(expression, left=None) -> str:
    return formula_latex(expression, left=left, width=None)


def _text_latex(text: str) -> str:
    """Plain words for ``\\text{...}``: characters TeX reads as commands escaped."""
    return "".join("\\" + c if c in "_#%&{}$" else c for c in text)


def _number(value: float, in_product: bool = False) -> str:
    text = f"{value + 0.0:.6g}"  # + 0.0 turns -0.0 into 0.0
    return f"({text})" if in_product and value < 0 else text


def _number_latex(value: float, in_product: bool = False, digits: int = 6) -> str:
    text = latex_number(value, digits)
    return rf"\left({text}\right)" if in_product and value < 0 else text


def _bracketed(expression) -> bool:
    """Whether a factor written next to another needs brackets: it binds weaker than a product."""
    return precedence(expression) < PRECEDENCE["Mul"]


def _factor_text(expression, alone: bool) -> str:
    text = _text(expression)
    return text if alone or not _bracketed(expression) else f"({text})"


def _factor_latex(expression, alone: bool) -> str:
    text = _latex(expression)
    return text if alone or not _bracketed(expression) else rf"\left({text}\right)"


def _sum_sign_text(summed) -> str:
    parts = [f"Σ_{variable}" if low is None else f"Σ_{variable}={low}..{high}" for variable, low, high in summed]
    return " ".join(parts) + " " if parts else ""


def _sum_sign_latex(summed) -> str:
    printer = LatexPrinter()
    return "".join(rf"\sum_{{{printer.doprint(variable)}}} " if low is None
                   else rf"\sum_{{{printer.doprint(variable)}={low}}}^{{{high}}} " for variable, low, high in summed)


def _statement_text(step, head, width) -> list:
    """Lines of the general statement dL/d(...) = [sums] product of partials, after ``head``."""
    loss = step.statement[0][0]
    left = f"{derivative_text(loss, step.general_wrt)} = "
    factors = [derivative_text(of, wrt) for of, wrt in step.statement]
    pieces = [("", _sum_sign_text(step.summed) + factors[0])] + [("·", factor) for factor in factors[1:]]
    return _broken_text(head + left, pieces, width)


def _statement_latex(step) -> str:
    loss = step.statement[0][0]
    product = " ".join(derivative_latex(of, wrt) for of, wrt in step.statement)
    return rf"{derivative_latex(loss, step.general_wrt)} &= {_sum_sign_latex(step.summed)}{product}"


def _where_text(step) -> str:
    return ", ".join(_text(form.general, left=(form.of, form.wrt)) for form in step.where)


def _where_latex(step) -> str:
    return ", ".join(_latex(form.general, left=(form.of, form.wrt)) for form in step.where)


def _term_symbols_text(term) -> str:
    return " · ".join(_factor_text(factor.formula, len(term) == 1) for factor in term)


def _term_symbols_latex(term) -> str:
    return " ".join(_factor_latex(factor.formula, len(term) == 1) for factor in term)


def _term_numbers_text(term) -> str:
    return " · ".join(_number(factor.value, in_product=len(term) > 1) for factor in term)


def _term_numbers_latex(term) -> str:
    return r" \cdot ".join(_number_latex(factor.value, in_product=len(term) > 1) for factor in term)


def _sum_pieces(items, terms, dots) -> list:
    """[(sign, text)] of a sum of printed terms, shortened (first terms, dots, last)."""
    shown, _ = shortened(items, terms)
    return [("+" if k else "", dots if item is None else item) for k, item in enumerate(shown)]


def _signed_pieces(values, terms, dots, number) -> list:
    """[(sign, text)] of a sum of numbers, each sign written as an operator: 1 - 2 + … + 4."""
    shown, _ = shortened(list(values), terms)
    return [("+", dots) if value is None else ("-" if value < 0 and k else ("+" if k else ""),
                                              number(abs(value) if k else value))
            for k, value in enumerate(shown)]


def _values_summary(step) -> str:
    values = step.values
    if values is None or values.size < 2:
        return ""
    what = f"{_text(adjoint_symbol(step.general_wrt.base.label))} over all of {step.layer}"
    return (f"{what}: {values.size} values from {values.min():.4g} to {values.max():.4g}, "
            f"largest |value| {abs(values).max():.4g}")


def _position(step) -> str:
    return ",".join(str(int(i)) for i in step.position)


def _is_sum_over_positions(step) -> bool:
    return step.rule in ("BP3", "BP4")


def _shown(step) -> tuple:
    """(terms, their values, a note on the count) of the sum a step shows. When most terms are 0
    (a ReLU that is off, a max-pool that routes elsewhere, a target that is 0) the zero terms
    are left out and counted."""
    values = step.term_values
    count = len(values)
    nonzero = [t for t, value in enumerate(values) if value != 0]
    if not nonzero or len(nonzero) > count / 2:
        return step.terms, values, f"{count} terms" if count > 1 else ""
    return ([step.terms[t] for t in nonzero], [values[t] for t in nonzero],
            f"{count} terms, the {count - len(nonzero)} that are 0 at this input left out")


# -- text -------------------------------------------------------------------------------------------
def derivation_text(derivation, terms=DEFAULT_TERMS, width=TEXT_WIDTH) -> str:
    """The derivation as terminal text: a numbered block per step, ending in the gradient.

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> derivation = net.derivation(np.ones((1, 27, 27)), 1.0, net.weight_symbols("dense4.weight")[0, 3])
    >>> print(derivation_text(derivation).splitlines()[2])
    1. output error (BP1): the loss is bce, the activation sigmoid

    Parameters: ``derivation``; ``terms``: terms of a long sum shown (None: every term);
    ``width``: columns a sum is broken to fit, at its terms (None: never).
    """
    width = math.inf if check_width(width) is None else width
    weight = _text(derivation.weight)
    lines = [f"∂L/∂{weight} = {derivation.total:.10g}, derived from the loss down in "
             f"{len(derivation.steps)} steps (Nielsen's BP1-BP4):"]
    for number, step in enumerate(derivation.steps, 1):
        lines += [""] + _step_text(number, step, terms, width)
    lines += ["", f"∂L/∂{weight} = {derivation.total:.10g} = net.gradients(x, y)[{derivation.key!r}]"
                  f"[{','.join(str(int(i)) for i in derivation.index)}]"]
    return "\n".join(lines)


def _broken_text(head, pieces, width) -> list:
    """``head`` and a sum of ``pieces`` as lines of at most ``width`` columns, later ones indented."""
    lines = broken_lines(pieces, width, len(head), measure=len)
    return [head + lines[0]] + [" " * len(head) + line for line in lines[1:]]


def _step_text(number: int, step, terms, width) -> list:
    shown, values, counted = _shown(step)
    counted = [("", f"[{counted}]")] if counted else []
    symbols = _sum_pieces([_term_symbols_text(t) for t in shown], terms, "…")
    numbers = _sum_pieces([_term_numbers_text(t) for t in shown], terms, "…")
    quantity = _text(step.quantity)
    lines = textwrap.wrap(f"{number}. {step.name} ({step.rule}): {step.note}", width, subsequent_indent="   ",
                          break_on_hyphens=False)
    lines += _statement_text(step, "   in general:  ", width) + [f"   where        {_where_text(step)}"]
    if _is_sum_over_positions(step) and len(step.terms) > 1:
        top = step.terms[step.largest_term]
        lines.append(f"   largest term {_term_symbols_text(top)} = {_term_numbers_text(top)} "
                     f"= {_number(step.term_values[step.largest_term])}")
        head = f"   the sum:     {quantity} = "
        indent = " " * (len(head) - 2)
        return (lines + _broken_text(head, symbols, width) + _broken_text(f"{indent}= ", numbers, width)
                + _broken_text(f"{indent}= ", _signed_pieces(values, terms, "…", _number)
                               + [("=", f"{step.value:.10g}")] + counted, width))
    head = f"   at [{_position(step)}]: ".ljust(16) + f"{quantity} = "
    indent = " " * (len(head) - 2)
    lines += _broken_text(head, symbols, width)
    if step.closed_form is not None:
        lines.append(f"{indent}= {_text(step.closed_form)}")
    exact = f"{step.value:.10g}" if _is_sum_over_positions(step) else _number(step.value)
    lines += _broken_text(f"{indent}= ", numbers + [("=", exact)] + counted, width)
    summary = _values_summary(step)
    return lines + ([f"   {summary}"] if summary else [])


# -- LaTeX ------------------------------------------------------------------------------------------
def derivation_latex(derivation, terms=DEFAULT_TERMS, width=DEFAULT_WIDTH) -> str:
    r"""The derivation as bare LaTeX math: per step a heading and an aligned block.

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> derivation = net.derivation(np.ones((1, 27, 27)), 1.0, net.weight_symbols("dense4.weight")[0, 3])
    >>> derivation_latex(derivation).count(r"\begin{aligned}")
    2

    Parameters: ``derivation``; ``terms``: terms of a long sum shown (None: every term);
    ``width``: rendered characters a sum is broken to fit, at its terms (None: never).
    """
    width = math.inf if check_width(width) is None else width
    weight = LatexPrinter().doprint(derivation.weight)
    rows = [rf"\displaystyle \text{{The chain rule for }} \frac{{\partial L}}{{\partial {weight}}} "
            rf"\text{{ from the loss down, at this input:}}"]
    for number, step in enumerate(derivation.steps, 1):
        heading = _text_latex(f"{number}. {step.name} ({step.rule}): {step.note}")
        rows += [rf"\text{{{heading}}}", _step_latex(step, terms, width)]
    index = ",".join(str(int(i)) for i in derivation.index)
    source = _text_latex(f"(net.gradients(x, y)['{derivation.key}'][{index}])")
    total = _number_latex(derivation.total, digits=10)
    rows.append(rf"\displaystyle \frac{{\partial L}}{{\partial {weight}}} = {total} "
                rf"\quad \text{{{source}}}")
    return r"\begin{array}{l} " + r" \\[1ex] ".join(rows) + r" \end{array}"


def _broken_rows(left, pieces, width) -> list:
    """Rows of an ``aligned`` block: ``left &= `` and a sum of ``pieces``, broken to fit ``width``."""
    lines = broken_lines(pieces, width, rendered_width(left))
    return [f"{left} &= {lines[0]}"] + [rf"&\quad {line}" for line in lines[1:]]


def _step_latex(step, terms, width) -> str:
    shown, values, counted = _shown(step)
    counted = [("", rf"\qquad \text{{({counted})}}")] if counted else []
    symbols = _sum_pieces([_term_symbols_latex(t) for t in shown], terms, r"\cdots")
    numbers = _sum_pieces([_term_numbers_latex(t) for t in shown], terms, r"\cdots")
    quantity = LatexPrinter().doprint(step.quantity)
    lines = [rf"{_statement_latex(step)}, \qquad {_where_latex(step)}"]
    if _is_sum_over_positions(step) and len(step.terms) > 1:
        top = step.terms[step.largest_term]
        lines += [rf"\text{{largest term:}} \quad {_term_symbols_latex(top)} &= {_term_numbers_latex(top)} "
                  rf"= {_number_latex(step.term_values[step.largest_term])}"]
        lines += _broken_rows(quantity, symbols, width) + _broken_rows("", numbers, width)
        lines += _broken_rows("", _signed_pieces(values, terms, r"\cdots", _number_latex) + counted, width)
        lines.append(rf"&= {_number_latex(step.value, digits=10)}")
    else:
        lines += _broken_rows(quantity, symbols, width)
        if step.closed_form is not None:
            lines.append(rf"&= {_latex(step.closed_form)}")
        lines += _broken_rows("", numbers + [("=", _number_latex(step.value))] + counted, width)
    return r"\quad \begin{aligned} " + r" \\ ".join(lines) + r" \end{aligned}"
