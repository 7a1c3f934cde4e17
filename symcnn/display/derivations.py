r"""A derivation (:class:`symcnn.derivation.Derivation`) as terminal text and as LaTeX.

Each step is written as a textbook writes it: the general statement (its local partial in
rolled form), the same at one position in named scalars, factor by factor in chain-rule
order (upstream first, then the local partial), the numbers, and the sum with its count.
A long sum shows its first terms, dots and its last term.

The ``*_latex`` functions return bare math (no ``$``); :func:`displayed_latex` wraps it for
Jupyter, in one place.

>>> displayed_latex(r"\frac{\partial L}{\partial w}")
'$\\displaystyle \\frac{\\partial L}{\\partial w}$'
"""

from __future__ import annotations

import sympy

from ..checks import as_expression
from ..naming import adjoint_symbol, parse_name
from .formulas import formula_text

#: Terms of a long sum shown by default: the first ones, dots, then the last.
DEFAULT_MAX_TERMS = 4


def displayed_latex(math: str) -> str:
    """Bare LaTeX math as Jupyter displays it (``_repr_latex_``): ``$\\displaystyle ...$``."""
    return f"$\\displaystyle {math}$"


def shown_terms(items: list, max_terms: int | None = DEFAULT_MAX_TERMS) -> list:
    """The items a long sum shows: all if there are at most ``max_terms``, else the first
    ``max_terms - 1``, None (where the dots go) and the last. ``max_terms=None``: all.

    >>> shown_terms(list(range(10)), 4)
    [0, 1, 2, None, 9]
    >>> shown_terms([0, 1], 4)
    [0, 1]
    """
    if max_terms is None or len(items) <= max(max_terms, 2):
        return list(items)
    return list(items[:max(max_terms - 1, 1)]) + [None, items[-1]]


def sum_text(items: list, max_terms: int | None = DEFAULT_MAX_TERMS, joiner: str = " + ") -> str:
    """Text items of a sum joined, a long one as first terms, …, last term.

    >>> sum_text(["t0", "t1", "t2", "t3", "t4"], 3)
    't0 + t1 + … + t4'
    """
    return joiner.join("…" if item is None else item for item in shown_terms(items, max_terms))


def _sum_latex(items: list, max_terms: int | None) -> str:
    return " + ".join(r"\dots" if item is None else item for item in shown_terms(items, max_terms))


def _layer_of(symbol) -> int:
    try:
        return parse_name(symbol.name).layer or 0
    except ValueError:  # not a named scalar (a display-only symbol)
        return 0


def _chain_rule_order(term) -> list:
    """The factors of one term of a gradient: upstream dL/d(...) first, then the local partials
    layer by layer from the top, then the input (a later layer's scalars before an earlier's)."""
    def key(factor):
        symbols = factor.free_symbols
        adjoint = any(s.name.startswith("g___") for s in symbols)
        return (not adjoint, -max((_layer_of(s) for s in symbols), default=0), _compound(factor))

    return sorted(sympy.Mul.make_args(term), key=key)


def _index_order(term) -> tuple:
    """Sort key of a term: the indices of the dL/d(...) it holds (numeric, not string, order)."""
    adjoints = sorted(s.name for s in term.free_symbols if s.name.startswith("g___"))
    return tuple(parse_name(name).indices for name in adjoints)


def _gradient_terms(expression) -> list:
    return sorted(sympy.Add.make_args(as_expression(expression)), key=_index_order)


def gradient_text(weight, expression, max_terms: int | None = DEFAULT_MAX_TERMS) -> str:
    """dL/d``weight`` = ``expression`` (a sum over positions) as text: one term a line, in index
    order, each term's factors in chain-rule order; a long sum as its first terms, …, its last.

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> w = net.weight_symbols("conv3.weight")[0, 0, 3, 3]
    >>> print(gradient_text(w, net.gradient_expression(w), max_terms=2))
    ∂L/∂w⁽³⁾[0,0,3,3] = Σ over 225 positions:
        ∂L/∂a⁽³⁾[0,0,0] · a⁽³⁾[0,0,0] · (1 - a⁽³⁾[0,0,0]) · a⁽²⁾[0,3,3]
      + …
      + ∂L/∂a⁽³⁾[0,14,14] · a⁽³⁾[0,14,14] · (1 - a⁽³⁾[0,14,14]) · a⁽²⁾[0,17,17]

    Parameters: ``weight``; ``expression`` its gradient (``net.gradient_expression``); ``max_terms``.
    """
    terms = [" · ".join(_factor_text(f, False) for f in _chain_rule_order(t)) for t in _gradient_terms(expression)]
    count = len(terms)
    lines = [f"∂L/∂{_text(weight)} = " + (f"Σ over {count} positions:" if count > 1 else terms[0])]
    if count > 1:
        shown = ["…" if term is None else term for term in shown_terms(terms, max_terms)]
        lines += [f"    {shown[0]}"] + [f"  + {term}" for term in shown[1:]]
    return "\n".join(lines)


def gradient_latex(weight, expression, max_terms: int | None = DEFAULT_MAX_TERMS) -> str:
    r"""dL/d``weight`` = ``expression`` as bare LaTeX: an aligned sum, a term a line, in index order.

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> w = net.weight_symbols("dense4.weight")[0, 3]
    >>> gradient_latex(w, net.gradient_expression(w))
    '\\begin{aligned} \\frac{\\partial L}{\\partial w^{(4)}_{0,3}} &= \\frac{\\partial L}{\\partial a^{(4)}_{0}} \\, a^{(4)}_{0} \\, \\left(1 - a^{(4)}_{0}\\right) \\, a^{(3)}_{0,0,3} \\end{aligned}'

    Parameters: as :func:`gradient_text`.
    """
    terms = [r" \, ".join(_factor_latex(f, False) for f in _chain_rule_order(t)) for t in _gradient_terms(expression)]
    shown = shown_terms(terms, max_terms)
    lines = [rf"\frac{{\partial L}}{{\partial {sympy.latex(weight)}}} &= {shown[0]}"]
    lines += [r"&\quad + " + (r"\dots" if term is None else term) for term in shown[1:]]
    if None in shown:
        lines[-1] += rf" \qquad \text{{({len(terms)} terms)}}"
    return r"\begin{aligned} " + r" \\ ".join(lines) + r" \end{aligned}"


# -- pieces of text -----------------------------------------------------------------------------
def _text(expression) -> str:
    """Pretty text (a⋅(1 - a)) where it fits on one line, else plain one-line text (fractions as /)."""
    pretty = formula_text(expression)
    return pretty if "\n" not in pretty else formula_text(expression, one_line=True)


def _text_latex(text: str) -> str:
    """Plain words for ``\\text{...}``: characters TeX reads as commands escaped."""
    return "".join("\\" + c if c in "_#%&{}$" else c for c in text)


def _partial_text(of, wrt) -> str:
    return f"∂{_text(of)}/∂{_text(wrt)}"


def _partial_latex(of, wrt) -> str:
    return rf"\frac{{\partial {sympy.latex(of)}}}{{\partial {sympy.latex(wrt)}}}"


def _number(value: float, in_product: bool = False) -> str:
    text = f"{value + 0.0:.6g}"  # + 0.0 turns -0.0 into 0.0
    return f"({text})" if in_product and value < 0 else text


def _number_latex(value: float, in_product: bool = False, digits: int = 6) -> str:
    """A number as TeX: 1.5 \\times 10^{-5}, not 1.5e-05 (which TeX spaces as a subtraction)."""
    mantissa, _, exponent = f"{value + 0.0:.{digits}g}".partition("e")
    text = mantissa + (rf" \times 10^{{{int(exponent)}}}" if exponent else "")
    return rf"\left({text}\right)" if in_product and value < 0 else text


def _compound(expression) -> bool:
    """Whether a factor needs parentheses next to another factor."""
    return not (expression.is_Atom or isinstance(expression, sympy.Indexed))


def _needs_parentheses(expression) -> bool:
    """Whether a factor written next to another needs parentheses: a sum or a negative product."""
    return isinstance(expression, sympy.Add) or (not expression.is_Atom and expression.could_extract_minus_sign())


def _factor_text(expression, alone: bool) -> str:
    text = _text(expression)
    return text if alone or not _needs_parentheses(expression) else f"({text})"


def _factor_latex(expression, alone: bool) -> str:
    text = sympy.latex(expression)
    return text if alone or not _needs_parentheses(expression) else rf"\left({text}\right)"


def _sum_sign_text(summed) -> str:
    parts = [f"Σ_{variable}" if low is None else f"Σ_{variable}={low}..{high}" for variable, low, high in summed]
    return " ".join(parts) + " " if parts else ""


def _sum_sign_latex(summed) -> str:
    return "".join(rf"\sum_{{{sympy.latex(variable)}}} " if low is None
                   else rf"\sum_{{{sympy.latex(variable)}={low}}}^{{{high}}} " for variable, low, high in summed)


def _statement_text(step) -> str:
    product = " · ".join(_partial_text(of, wrt) for of, wrt in step.statement)
    return f"∂L/∂{_text(step.general_wrt)} = {_sum_sign_text(step.summed)}{product}"


def _statement_latex(step) -> str:
    product = r" \, ".join(_partial_latex(of, wrt) for of, wrt in step.statement)
    return rf"\frac{{\partial L}}{{\partial {sympy.latex(step.general_wrt)}}} = {_sum_sign_latex(step.summed)}{product}"


def _where_text(step) -> str:
    return ", ".join(f"{_partial_text(form.of, form.wrt)} = {_text(form.general)}" for form in step.where)


def _where_latex(step) -> str:
    return ", ".join(rf"{_partial_latex(form.of, form.wrt)} = {sympy.latex(form.general)}" for form in step.where)


def _term_symbols_text(term) -> str:
    return " · ".join(_factor_text(factor.formula, len(term) == 1) for factor in term)


def _term_symbols_latex(term) -> str:
    return r" \, ".join(_factor_latex(factor.formula, len(term) == 1) for factor in term)


def _term_numbers_text(term) -> str:
    return " · ".join(_number(factor.value, in_product=len(term) > 1) for factor in term)


def _term_numbers_latex(term) -> str:
    return r" \cdot ".join(_number_latex(factor.value, in_product=len(term) > 1) for factor in term)


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
def derivation_text(derivation, max_terms: int | None = DEFAULT_MAX_TERMS) -> str:
    """The derivation as terminal text: a numbered block per step, ending in the gradient.

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> derivation = net.derivation(np.ones((1, 27, 27)), 1.0, net.weight_symbols("dense4.weight")[0, 3])
    >>> print(derivation_text(derivation).splitlines()[2])
    1. output error (BP1): the loss is bce, the activation sigmoid

    Parameters: ``derivation``; ``max_terms``: terms of a long sum shown (None: every term).
    """
    weight = _text(derivation.weight)
    lines = [f"∂L/∂{weight} = {derivation.total:.10g}, derived from the loss down in "
             f"{len(derivation.steps)} steps (Nielsen's BP1-BP4):"]
    for number, step in enumerate(derivation.steps, 1):
        lines += [""] + _step_text(number, step, max_terms)
    lines += ["", f"∂L/∂{weight} = {derivation.total:.10g} = net.gradients(x, y)[{derivation.key!r}]"
                  f"[{','.join(str(int(i)) for i in derivation.index)}]"]
    return "\n".join(lines)


def _step_text(number: int, step, max_terms) -> list:
    terms, values, counted = _shown(step)
    counted = f" ({counted})" if counted else ""
    symbols = sum_text([_term_symbols_text(t) for t in terms], max_terms)
    numbers = sum_text([_term_numbers_text(t) for t in terms], max_terms)
    quantity = _text(step.quantity)
    lines = [f"{number}. {step.name} ({step.rule}): {step.note}",
             f"   in general:  {_statement_text(step)}",
             f"   where        {_where_text(step)}"]
    if _is_sum_over_positions(step) and len(step.terms) > 1:
        top = step.terms[step.largest_term]
        lines.append(f"   largest term {_term_symbols_text(top)} = {_term_numbers_text(top)} "
                     f"= {_number(step.term_values[step.largest_term])}")
        head = f"   the sum:     {quantity} = "
        indent = " " * (len(head) - 2)
        return lines + [head + symbols, f"{indent}= {numbers}",
                        f"{indent}= {_signed_sum_text(values, max_terms)}{counted} = {step.value:.10g}"]
    head = f"   at [{_position(step)}]: ".ljust(16) + f"{quantity} = "
    indent = " " * (len(head) - 2)
    lines.append(head + symbols)
    if step.closed_form is not None:
        lines.append(f"{indent}= {_text(step.closed_form)}")
    exact = f"{step.value:.10g}" if _is_sum_over_positions(step) else _number(step.value)
    lines.append(f"{indent}= {numbers}{counted} = {exact}")
    summary = _values_summary(step)
    return lines + ([f"   {summary}"] if summary else [])


def _signed_sum_text(values, max_terms, dots: str = "…", number=_number) -> str:
    """Numbers of a sum written with their signs as operators: 1 - 2 + … + 4."""
    text = ""
    for position, value in enumerate(shown_terms(list(values), max_terms)):
        if value is None:
            text += f" + {dots}"
        elif position == 0:
            text += number(value)
        else:
            text += f" {'-' if value < 0 else '+'} {number(abs(value))}"
    return text


# -- LaTeX ------------------------------------------------------------------------------------------
def derivation_latex(derivation, max_terms: int | None = DEFAULT_MAX_TERMS) -> str:
    r"""The derivation as bare LaTeX math: per step a heading and an aligned block.

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> derivation = net.derivation(np.ones((1, 27, 27)), 1.0, net.weight_symbols("dense4.weight")[0, 3])
    >>> derivation_latex(derivation).count(r"\begin{aligned}")
    2

    Parameters: ``derivation``; ``max_terms``: terms of a long sum shown (None: every term).
    """
    weight = sympy.latex(derivation.weight)
    rows = [rf"\text{{The chain rule for }} \frac{{\partial L}}{{\partial {weight}}} "
            rf"\text{{ from the loss down, at this input:}}"]
    for number, step in enumerate(derivation.steps, 1):
        heading = _text_latex(f"{number}. {step.name} ({step.rule}): {step.note}")
        rows += [rf"\text{{{heading}}}", _step_latex(step, max_terms)]
    index = ",".join(str(int(i)) for i in derivation.index)
    source = _text_latex(f"(net.gradients(x, y)['{derivation.key}'][{index}])")
    rows.append(rf"\frac{{\partial L}}{{\partial {weight}}} = {_number_latex(derivation.total, digits=10)} "
                rf"\quad \text{{{source}}}")
    return r"\begin{array}{l} " + r" \\[1ex] ".join(rows) + r" \end{array}"


def _step_latex(step, max_terms) -> str:
    terms, values, counted = _shown(step)
    counted = rf" \quad \text{{({counted})}}" if counted else ""
    symbols = _sum_latex([_term_symbols_latex(t) for t in terms], max_terms)
    numbers = _sum_latex([_term_numbers_latex(t) for t in terms], max_terms)
    quantity = sympy.latex(step.quantity)
    lines = [rf"{_statement_latex(step).replace(' = ', ' &= ', 1)}, \qquad {_where_latex(step)}"]
    if _is_sum_over_positions(step) and len(step.terms) > 1:
        top = step.terms[step.largest_term]
        lines += [rf"\text{{largest term:}} \quad {_term_symbols_latex(top)} &= {_term_numbers_latex(top)} "
                  rf"= {_number_latex(step.term_values[step.largest_term])}",
                  rf"{quantity} &= {symbols}",
                  rf"&= {numbers}",
                  "&= " + _signed_sum_text(values, max_terms, r"\dots", _number_latex) + counted,
                  rf"&= {_number_latex(step.value, digits=10)}"]
    else:
        lines.append(rf"{quantity} &= {symbols}")
        if step.closed_form is not None:
            lines.append(rf"&= {sympy.latex(step.closed_form)}")
        lines.append(rf"&= {numbers}{counted} = {_number_latex(step.value)}")
    return r"\quad \begin{aligned} " + r" \\ ".join(lines) + r" \end{aligned}"
