"""The chain-rule ledger, rolled (Sigma) forms and cost tables, as text, LaTeX and HTML."""

from __future__ import annotations

import html

from ..naming import text_name
from .formulas import derivative_latex, derivative_text, equations_latex, formula_latex, formula_text
from .text import format_table

#: Terms of a long sum shown inside a ledger's cells (the first ones, dots, the last).
CELL_TERMS = 3
#: Width at which a formula in a ledger's LaTeX cell is broken over aligned lines.
CELL_WIDTH = 60


def _term_headers(ledger, text: bool) -> list:
    """Column names of a ledger's terms: the factors of one term with p for the position."""
    if not ledger.terms:
        return []
    names = {"a": "a_p", "z": "z_p", "L": "L"}
    headers = []
    for factor in ledger.terms[0].factors:
        of, wrt = (names.get(text_name(s.name)[0], s.name) if s.name != ledger.weight.name else "w"
                   for s in (factor.of, factor.wrt))
        headers.append(f"∂{of}/∂{wrt}" if text else rf"\frac{{\partial {of}}}{{\partial {wrt}}}")
    return headers


def ledger_text(ledger, rows: int = 10) -> str:
    """The ledger as text tables: the path of factors, then the largest terms and the total.

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> ledger = net.ledger(np.ones((1, 27, 27)), 1.0, net.weight_symbols("dense4.weight")[0, 3])
    >>> print(ledger_text(ledger).splitlines()[0])
    Chain-rule ledger of ∂L/∂w⁽⁴⁾[0,3] = -0.0609951 (1 term)

    Parameters: ``ledger`` (:class:`symcnn.inspect.Ledger`); ``rows``: how many terms to list.
    """
    total, count, headers = ledger.total, len(ledger.terms), _term_headers(ledger, text=True)
    path = [[derivative_text(f.of, f.wrt), formula_text(f.formula, one_line=True, terms=CELL_TERMS), f"{f.value:.6g}"]
            for f in ledger.path]
    terms = [[str(term.position)] + [f"{f.value:.6g}" for f in term.factors]
             + [f"{term.value:.6g}", f"{100 * term.value / total:.1f}%" if total else "-"]
             for term in ledger.terms[:rows]]
    if count > rows:
        terms.append([f"… {count - rows} more"] + [""] * (len(headers) + 2))
    terms.append(["total"] + [""] * len(headers) + [f"{total:.10g}", "100%"])
    return "\n".join([
        f"Chain-rule ledger of ∂L/∂{text_name(ledger.weight.name)} = {total:.6g} "
        f"({count} term{'s' * (count != 1)})",
        "", "From the loss down to the weight, along the largest contributions:",
        format_table(path, ["factor", "formula", "value"]),
        "", f"The gradient is the sum over positions p of {' · '.join(headers)}, largest first:",
        format_table(terms, ["position"] + headers + ["term", "share"])])


def _latex_array(rows, columns: str, display: bool = False) -> str:
    """An ``array``; with ``display`` its cells are typeset as displayed math (full-size fractions)."""
    style = r"\displaystyle " if display else ""
    body = (r" \\[0.5ex] " if display else r" \\ ").join(" & ".join(style + cell for cell in row) for row in rows)
    return rf"\begin{{array}}{{{columns}}} {body} \end{{array}}"


def latex_number(value: float, digits: int = 6) -> str:
    r"""A number as LaTeX with ``digits`` significant digits, powers of ten as a textbook writes them
    (not 1.5e-07, which TeX would space as a subtraction).

    >>> latex_number(-0.00332367), latex_number(1.5e-07), latex_number(-0.0)
    ('-0.00332367', '1.5 \\times 10^{-7}', '0')
    """
    text = f"{value + 0.0:.{digits}g}"  # + 0.0 turns -0.0 into 0.0
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def _plain_number(value: float) -> str:
    return f"{value:.6g}"


def _ledger_parts(ledger, rows: int, number=latex_number):
    """(title, path rows, term header, term rows) with LaTeX cells, shared by LaTeX and HTML.

    ``number`` formats the values (LaTeX for the LaTeX view, plain text for HTML cells).
    """
    total, headers = ledger.total, _term_headers(ledger, text=False)
    title = (derivative_latex(ledger.net.graph.loss_symbol, ledger.weight) + r" = \sum_p "
             + " ".join(headers) + f" = {latex_number(total)}")
    path = [[derivative_latex(f.of, f.wrt), formula_latex(f.formula, terms=CELL_TERMS, width=CELL_WIDTH),
             number(f.value)] for f in ledger.path]
    terms = [[str(term.position)] + [number(f.value) for f in term.factors] + [number(term.value)]
             for term in ledger.terms[:rows]]
    return title, path, [r"p"] + headers + [r"\text{term}"], terms


def ledger_latex(ledger, rows: int = 10) -> str:
    r"""The ledger as LaTeX (bare math; ``Ledger._repr_latex_`` wraps it): the path and the largest terms.

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> ledger = net.ledger(np.ones((1, 27, 27)), 1.0, net.weight_symbols("dense4.weight")[0, 3])
    >>> ledger_latex(ledger)[:64]
    '\\begin{array}{l} \\displaystyle \\frac{\\partial L}{\\partial w^{(4)'

    Parameters: ``ledger``; ``rows``: how many terms to list.
    """
    title, path, header, terms = _ledger_parts(ledger, rows)
    more = len(ledger.terms) - rows
    tail = [rf"\text{{(and {more} more terms)}}"] if more > 0 else []
    path_table = _latex_array([[r"\text{factor}", r"\text{formula}", r"\text{value}"]] + path, "lll", display=True)
    term_table = _latex_array([header] + terms, "l" + "r" * (len(header) - 1))
    parts = [r"\displaystyle " + title, path_table, term_table] + tail
    return r"\begin{array}{l} " + r" \\[1ex] ".join(parts) + r" \end{array}"


def ledger_html(ledger, rows: int = 10) -> str:
    r"""The ledger as HTML tables whose math cells are ``\( \displaystyle ... \)`` (typeset by Jupyter's MathJax).

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> ledger = net.ledger(np.ones((1, 27, 27)), 1.0, net.weight_symbols("dense4.weight")[0, 3])
    >>> ledger_html(ledger).count("<table>")
    2

    Parameters: ``ledger``; ``rows``: how many terms to list.
    """
    def row(cells, tag):
        return "<tr>" + "".join(f"<{tag}>{html.escape(cell)}</{tag}>" for cell in cells) + "</tr>"

    def table(header, body, math_columns):
        cells = [[rf"\(\displaystyle {cell}\)" if k in math_columns else cell for k, cell in enumerate(line)]
                 for line in body]
        return ("<table>" + row([rf"\({h}\)" for h in header], "th")
                + "".join(row(line, "td") for line in cells) + "</table>")

    title, path, header, terms = _ledger_parts(ledger, rows, number=_plain_number)
    shown = f", the {rows} largest shown" if len(ledger.terms) > rows else ""
    return (f"<p>\\(\\displaystyle {html.escape(title)}\\) ({len(ledger.terms)} terms{shown})</p>"
            + table([r"\text{factor}", r"\text{formula}", r"\text{value}"], path, {0, 1})
            + table(header, terms, set()))


def _rolled_equations(form) -> list:
    """[(left, right)] of a rolled form: the general formula, then the chosen scalar's."""
    def left(of, wrt):
        return of if wrt is None else (of, wrt)

    return [(left(form.of, form.wrt), form.general), (left(form.of_at, form.wrt_at), form.at)]


def rolled_latex(*forms) -> str:
    r"""LaTeX (bare math) of rolled forms as one aligned block: each general formula over the chosen
    scalar's (sums still rolled).

    >>> import symcnn as sc
    >>> from symcnn.inspect import rolled_form
    >>> net = sc.presets.network_a()
    >>> print(rolled_latex(rolled_form(net, net.graph.layer_nodes[0].pre_activations[0, 2, 3])))
    \begin{aligned} z^{(1)}_{f,i,j} &= \sum_{c=0}^{0}\sum_{u=0}^{2}\sum_{v=0}^{2} w^{(1)}_{f,c,u,v} x_{c,i + u,j + v} \\ z^{(1)}_{0,2,3} &= \sum_{c=0}^{0}\sum_{u=0}^{2}\sum_{v=0}^{2} w^{(1)}_{0,c,u,v} x_{c,u + 2,v + 3} \end{aligned}
    """
    return equations_latex([equation for form in forms for equation in _rolled_equations(form)])


def rolled_text(*forms) -> str:
    """Pretty text of rolled forms: each general formula, then the chosen scalar's.

    >>> import symcnn as sc
    >>> from symcnn.inspect import rolled_form
    >>> net = sc.presets.network_a()
    >>> a = net.graph.layer_nodes[0].outputs[0, 2, 3]
    >>> print(rolled_text(rolled_form(net, a, net.graph.layer_nodes[0].pre_activations[0, 2, 3])))
    ∂a⁽¹⁾[f, i, j]/∂z⁽¹⁾[f, i, j] = a⁽¹⁾[f, i, j]⋅(1 - a⁽¹⁾[f, i, j])
    ∂a⁽¹⁾[0, 2, 3]/∂z⁽¹⁾[0, 2, 3] = a⁽¹⁾[0, 2, 3]⋅(1 - a⁽¹⁾[0, 2, 3])
    """
    return "\n".join(formula_text(right, left=left) for form in forms for left, right in _rolled_equations(form))


def costs_text(rows) -> str:
    """A markdown table of the rows of :func:`symcnn.inspect.layer_costs` or ``growth_table``.

    >>> print(costs_text([{"layer": "conv1", "positions": 625}]))
    | layer | positions |
    | --- | --- |
    | conv1 | 625 |
    """
    headers = list(rows[0]) if rows else []
    cells = [[f"{row[h]:,}" if isinstance(row[h], int) else ("-" if row[h] is None else str(row[h]))
              for h in headers] for row in rows]
    return format_table(cells, headers)
