r"""Readable math: expressions as indexed LaTeX for Jupyter and as pretty text for a terminal.

One LaTeX convention holds for everything symcnn prints: every ``*_latex`` function returns
bare math (no ``$`` delimiters, ready for ``\[ ... \]``, ``$$ ... $$`` or a KaTeX/MathJax
call), and every ``_repr_latex_`` is :func:`display_math` of it, ``$\displaystyle ...$``.
HTML tables mark each math cell with ``\( ... \)``.

Products are written in chain-rule order (upstream adjoint, local partials layer by layer,
input), sums by index; a sum of more than ``terms`` terms shows its first ``terms - 1``
terms, dots and its last term with the count (``terms=None`` shows every term); a formula
wider than ``width`` is broken over aligned lines at its top-level terms (``width=None``:
never).
"""

from __future__ import annotations

import re

import sympy
from sympy.printing.pretty.stringpict import prettyForm

from ..checks import as_expression
from ..naming import check_scheme
from .printers import DEFAULT_TERMS, LatexPrinter, PrettyPrinter, TextPrinter, check_terms

#: The width (in characters of the rendered line, about 8 px each in Jupyter) beyond which a
#: formula is broken over lines.
DEFAULT_WIDTH = 100
#: The width (in columns) of a terminal, beyond which text is broken at top-level terms.
TEXT_WIDTH = 80


def _in_scheme(expression, net=None, naming=None):
    """``expression`` with its named scalars renamed to ``naming`` (needs ``net``, which renames)."""
    expression = as_expression(expression)
    if naming is None or (net is not None and naming == net.naming):
        return expression
    if net is None:
        raise ValueError("renaming to another naming scheme needs the network (net=...)")
    return net.renamed(expression, check_scheme(naming))


def check_width(width):
    """``width`` if it is None (never break) or a positive number of characters."""
    if width is not None and (isinstance(width, bool) or not isinstance(width, (int, float)) or not width > 0):
        raise ValueError(f"width must be None (one line) or a positive number of characters, got {width!r}")
    return width


def display_math(latex: str) -> str:
    r"""What ``_repr_latex_`` returns for bare math: ``$\displaystyle ...$``.

    >>> display_math("a^{(1)}_{0}")
    '$\\displaystyle a^{(1)}_{0}$'
    """
    return rf"$\displaystyle {latex}$"


def derivative_latex(of, wrt) -> str:
    r"""The label d``of``/d``wrt`` as a LaTeX fraction of partials.

    >>> import symcnn as sc
    >>> dense = sc.presets.network_c().graph.layer_nodes[-1]
    >>> derivative_latex(dense.outputs[0], dense.pre_activations[1])
    '\\frac{\\partial a^{(3)}_{0}}{\\partial z^{(3)}_{1}}'
    """
    printer = LatexPrinter()
    return rf"\frac{{\partial {printer.doprint(of)}}}{{\partial {printer.doprint(wrt)}}}"


def derivative_text(of, wrt) -> str:
    """The label d``of``/d``wrt`` as text, ``∂a⁽³⁾[0]/∂z⁽³⁾[1]``."""
    printer = TextPrinter()
    return f"∂{printer.doprint(of)}/∂{printer.doprint(wrt)}"


def _left_latex(left, printer) -> str:
    return derivative_latex(*left) if isinstance(left, tuple) else printer.doprint(left)


def _left_text(left, printer) -> str:
    return derivative_text(*left) if isinstance(left, tuple) else printer.doprint(left)


_TOKENS = re.compile(r"\\[a-zA-Z]+|\\.|[{}^_]|[^{}^_\\\s]")


def rendered_width(latex: str) -> float:
    r"""Rough width of typeset LaTeX in characters: scripts count 0.7, a fraction its wider part.

    >>> rendered_width(r"\frac{\partial L}{\partial a^{(2)}_{0,8,0}}")
    7.6
    """
    tokens = _TOKENS.findall(latex)
    position = 0

    def group() -> float:  # one token or one {...} group
        nonlocal position
        if position >= len(tokens):
            return 0.0
        token = tokens[position]
        position += 1
        if token == "{":
            width = 0.0
            while position < len(tokens) and tokens[position] != "}":
                width += item()
            position += 1
            return width
        return item(token)

    def item(token=None) -> float:
        nonlocal position
        if token is None:
            token = tokens[position]
            position += 1
        if token in ("^", "_"):
            return 0.7 * group()
        if token == r"\frac":
            return max(group(), group())
        if token in (r"\left", r"\right"):
            position += 1  # the delimiter
            return 0.5
        if token in (r"\text", r"\mathtt", r"\operatorname", r"\mathbf"):
            return group()
        if token in ("{", "}"):
            position -= 1
            return group() if token == "{" else 0.0
        if token in ("&", r"\\", r"\displaystyle", r"\begin", r"\end"):
            return 0.0
        if token in (r"\underbrace", r"\sum"):
            return 1.0 if token == r"\sum" else group()
        return 1.0

    width = 0.0
    while position < len(tokens):
        if tokens[position] == "}":
            position += 1
            continue
        width += item()
    return round(width, 6)


def _signed_pieces(expression, printer, render) -> tuple:
    """([(sign, printed term)], count or None) of a top-level sum: the pieces a line break may fall between."""
    terms, count = printer.shown_terms(expression)
    pieces = []
    for k, term in enumerate(terms):
        negative = k > 0 and term.could_extract_minus_sign()
        pieces.append(("-" if negative else ("+" if k else ""), render(-term if negative else term)))
    return pieces, count


def broken_lines(pieces, width, used: float = 0.0, measure=rendered_width) -> list:
    """The signed terms ``[(sign, text)]`` of a sum as lines no wider than ``width``.

    ``used``: the width the first line already holds (what stands left of it); every later
    line starts as far in. ``measure``: the width of a piece of text (:func:`rendered_width`
    for LaTeX, ``len`` for terminal text). A line holds at least one term; a piece with the
    sign ``""`` after the first is a note that follows the line (a count, ``= value``).

    >>> broken_lines([("", "a"), ("+", "b"), ("-", "c")], 6, measure=len)
    ['a + b', '- c']
    """
    lines, line, taken = [], "", used
    for sign, text in pieces:
        signed = f"{sign} {text}" if sign else text
        piece = f" {signed}" if line else signed
        if line and taken + measure(piece) > width:
            lines.append(line)
            line = signed
            taken = used + measure(line)
        else:
            line, taken = line + piece, taken + measure(piece)
    return lines + [line]


def _aligned_rows(left_tex, expression, printer, width) -> list:
    """Rows of an ``aligned`` block for ``left = expression`` (``&=`` or ``&`` on the first row)."""
    one_line = printer.doprint(expression)
    first = f"{left_tex} &= " if left_tex is not None else "&"
    if width is None or not expression.is_Add or rendered_width(one_line) + rendered_width(left_tex or "") <= width:
        return [first + one_line]
    pieces, count = _signed_pieces(expression, printer, printer.doprint)
    rows = broken_lines(pieces, width, rendered_width(left_tex or ""))
    rows[-1] += rf" \qquad \text{{({count} terms)}}" if count else ""
    return [first + rows[0]] + [rf"&\quad {row}" for row in rows[1:]]


def formula_latex(expression, net=None, naming=None, *, left=None, terms=DEFAULT_TERMS,
                  width=DEFAULT_WIDTH) -> str:
    r"""LaTeX (bare math) of an expression with indexed names, in textbook order.

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> w, x = net.weight_symbols("conv1.weight")[0, 0, 0, 2], net.graph.input_symbols[0, 0, 4]
    >>> formula_latex(x * w)
    'w^{(1)}_{0,0,0,2} x_{0,0,4}'
    >>> formula_latex(w * x, net, naming="r")
    '\\mathtt{l1m1w3} \\mathtt{inp\\_5}'
    >>> a = net.graph.layer_nodes[0].outputs[0, 1, 2]
    >>> formula_latex(a * (1 - a), left=(a, net.graph.layer_nodes[0].pre_activations[0, 1, 2]))
    '\\frac{\\partial a^{(1)}_{0,1,2}}{\\partial z^{(1)}_{0,1,2}} = a^{(1)}_{0,1,2} \\left(1 - a^{(1)}_{0,1,2}\\right)'

    Parameters: ``expression``; ``net`` and ``naming`` (``"symcnn"`` or ``"r"``) to rename;
    ``left``: what the expression equals, shown as ``left = ...`` (an expression, or a pair
    (of, wrt) for the partial d of / d wrt); ``terms``: how many terms of a long sum to show
    (None: every term); ``width``: break a wider formula over aligned lines (None: never).
    """
    expression = _in_scheme(expression, net, naming)
    printer = LatexPrinter(terms=terms)
    left_tex = None if left is None else _left_latex(left, printer)
    rows = _aligned_rows(left_tex, expression, printer, check_width(width))
    if len(rows) == 1:
        return rows[0].replace(" &= ", " = ").removeprefix("&")
    return r"\begin{aligned} " + r" \\ ".join(rows) + r" \end{aligned}"


def equations_latex(equations, *, terms=DEFAULT_TERMS, width=DEFAULT_WIDTH) -> str:
    r"""Several equations ``left = expression`` as one ``aligned`` block, each broken if too wide.

    >>> import symcnn as sc
    >>> node = sc.presets.network_a().graph.layer_nodes[0]
    >>> a, z = node.outputs[0, 0, 0], node.pre_activations[0, 0, 0]
    >>> print(equations_latex([(a, sc.functions.Sigmoid(z)), ((a, z), a * (1 - a))]))
    \begin{aligned} a^{(1)}_{0,0,0} &= \sigma\left(z^{(1)}_{0,0,0}\right) \\ \frac{\partial a^{(1)}_{0,0,0}}{\partial z^{(1)}_{0,0,0}} &= a^{(1)}_{0,0,0} \left(1 - a^{(1)}_{0,0,0}\right) \end{aligned}

    Parameters: ``equations``, pairs (left, expression) with ``left`` as in
    :func:`formula_latex`; ``terms`` and ``width`` as there.
    """
    printer, width = LatexPrinter(terms=terms), check_width(width)
    rows = [row for left, expression in equations
            for row in _aligned_rows(_left_latex(left, printer), as_expression(expression), printer, width)]
    return r"\begin{aligned} " + r" \\ ".join(rows) + r" \end{aligned}"


def formula_text(expression, net=None, naming=None, one_line: bool = False, *, left=None,
                 terms=DEFAULT_TERMS, width=TEXT_WIDTH) -> str:
    """Pretty unicode text of an expression for a terminal, in textbook order, indices in brackets.

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> a = net.graph.layer_nodes[0].outputs[0, 1, 2]
    >>> print(formula_text((1 - a) * a))
    a⁽¹⁾[0,1,2]⋅(1 - a⁽¹⁾[0,1,2])
    >>> formula_text(a * (1 - a), net, naming="r", one_line=True)
    'interm_l1_28*(1 - interm_l1_28)'
    >>> print(formula_text(net.graph.layer_nodes[0].weighted_sum_at((0, 0, 0)), terms=3, width=50))
    w⁽¹⁾[0,0,0,0]⋅x[0,0,0] + w⁽¹⁾[0,0,0,1]⋅x[0,0,1]
      + ⋯ + w⁽¹⁾[0,0,2,2]⋅x[0,2,2] [9 terms]

    Parameters: ``expression``; ``net``, ``naming``, ``left``, ``terms`` as
    :func:`formula_latex`; ``one_line`` (plain one-line text instead of 2-D pretty printing);
    ``width``: break the 2-D text at top-level terms to fit this many columns (None: never).
    """
    expression = _in_scheme(expression, net, naming)
    if one_line:
        printer = TextPrinter(terms=terms)
        shown = printer.doprint(expression)
        return shown if left is None else f"{_left_text(left, printer)} = {shown}"
    printer, width = PrettyPrinter(terms=terms), check_width(width)
    prefix = "" if left is None else f"{_left_text(left, TextPrinter())} = "
    whole = printer._print(expression)
    if width is None or not expression.is_Add or len(prefix) + whole.width() <= width:
        return _render(prettyForm(*whole.left(prefix)) if prefix else whole)
    pieces, count = _signed_pieces(expression, printer, printer._print)
    indent = " " * max(len(prefix), 2)
    lines, line, has_term = [], prettyForm(prefix), False
    for sign, form in pieces:
        glued = prettyForm(*form.left(f" {sign} ")) if sign else form
        if has_term and line.width() + glued.width() > width:
            lines.append(line)
            line = prettyForm(*form.left(f"{indent}{sign} "))
        else:
            line, has_term = _beside(line, glued), True
    if count:
        counted = prettyForm(f" [{count} terms]")
        if line.width() + counted.width() <= width:
            line = _beside(line, counted)
        else:  # the count on a line of its own
            lines.append(line)
            line = prettyForm(f"{indent}[{count} terms]")
    lines.append(line)
    return "\n".join(_render(form) for form in lines)


def _beside(line, form):
    """The pretty form ``line`` followed by ``form`` on the same baseline."""
    return prettyForm(*line.right(form))


def _render(form) -> str:
    return form.render(wrap_line=False).rstrip()


class Formula:
    """An expression to look at: LaTeX in Jupyter, pretty text in a terminal.

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> shown = show(net.weight_symbols("conv1.weight")[0, 0, 0, 0], net, naming="r")
    >>> str(shown), shown._repr_latex_()
    ('l1m1w1', '$\\\\displaystyle \\\\mathtt{l1m1w1}$')

    Parameters: ``expression``; ``net``, ``naming``, ``left``, ``terms``, ``width`` as
    :func:`formula_latex` (``terms=None`` shows every term of a long sum); the text form
    breaks at :data:`TEXT_WIDTH` columns unless another ``width`` is given.
    """

    def __init__(self, expression, net=None, naming=None, *, left=None, terms=DEFAULT_TERMS, width=DEFAULT_WIDTH):
        self.expression = _in_scheme(expression, net, naming)
        self.left, self.terms, self.width = left, check_terms(terms), check_width(width)

    def latex(self) -> str:
        """The bare LaTeX of the formula (what :meth:`_repr_latex_` wraps)."""
        return formula_latex(self.expression, left=self.left, terms=self.terms, width=self.width)

    def _repr_latex_(self) -> str:
        return display_math(self.latex())

    def __str__(self) -> str:
        text_width = TEXT_WIDTH if self.width == DEFAULT_WIDTH else self.width
        return formula_text(self.expression, left=self.left, terms=self.terms, width=text_width)

    __repr__ = __str__


def show(expression, net=None, naming=None, *, left=None, terms=DEFAULT_TERMS, width=DEFAULT_WIDTH) -> Formula:
    """Wrap an expression for display (see :class:`Formula`); ``naming="r"`` shows the R names.

    ``show(expression, terms=None)`` shows every term of a long sum; ``left=(of, wrt)`` labels
    it as the partial d of / d wrt.
    """
    return Formula(expression, net, naming, left=left, terms=terms, width=width)
