"""Readable math: expressions as indexed LaTeX for Jupyter and as pretty text for a terminal."""

from __future__ import annotations

import sympy

from ..checks import as_expression
from ..naming import NamedScalar, check_scheme, text_name


class ShownName(sympy.Symbol):
    """A display-only symbol whose name is already the text to print (e.g. ``w⁽²⁾[0,0,1,3]``)."""

    def _pretty(self, printer):
        from sympy.printing.pretty.stringpict import prettyForm
        return prettyForm(self.name)


def _in_scheme(expression, net=None, naming=None):
    """``expression`` with its named scalars renamed to ``naming`` (needs ``net``)."""
    expression = as_expression(expression)
    if naming is None or (net is not None and naming == net.naming):
        return expression
    if net is None:
        raise ValueError("renaming to another naming scheme needs the network (net=...)")
    from ..inspect import renamed
    return renamed(net.graph, expression, check_scheme(naming))


def as_text_symbols(expression):
    return expression.xreplace({s: ShownName(text_name(s.name)) for s in expression.atoms(NamedScalar)})


def formula_latex(expression, net=None, naming=None) -> str:
    """LaTeX of an expression with indexed names (w^{(2)}_{0,0,1,3}), optionally in another scheme.

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> w, x = net.weight_symbols("conv1.weight")[0, 0, 0, 2], net.graph.input_symbols[0, 0, 4]
    >>> formula_latex(w * x)
    'w^{(1)}_{0,0,0,2} x_{0,0,4}'
    >>> formula_latex(w * x, net, naming="r")
    '\\\\mathtt{inp\\\\_5} \\\\mathtt{l1m1w3}'

    Parameters: ``expression``; ``net`` and ``naming`` (``"symcnn"`` or ``"r"``) to rename.
    """
    return sympy.latex(_in_scheme(expression, net, naming))


def formula_text(expression, net=None, naming=None, one_line: bool = False) -> str:
    """Pretty unicode text of an expression for a terminal, indices in brackets.

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> a = net.graph.layer_nodes[0].outputs[0, 1, 2]
    >>> print(formula_text(a * (1 - a)))
    a⁽¹⁾[0,1,2]⋅(1 - a⁽¹⁾[0,1,2])
    >>> formula_text(a * (1 - a), net, naming="r", one_line=True)
    'interm_l1_28*(1 - interm_l1_28)'

    Parameters: ``expression``; ``net``, ``naming`` as :func:`formula_latex`; ``one_line``
    (plain one-line text instead of 2-D pretty printing).
    """
    shown = as_text_symbols(_in_scheme(expression, net, naming))
    return sympy.sstr(shown) if one_line else sympy.pretty(shown, use_unicode=True)


class Formula:
    """An expression to look at: LaTeX in Jupyter, pretty text in a terminal.

    >>> import symcnn as sc
    >>> net = sc.presets.network_a()
    >>> shown = show(net.weight_symbols("conv1.weight")[0, 0, 0, 0], net, naming="r")
    >>> str(shown), shown._repr_latex_()
    ('l1m1w1', '$\\\\displaystyle \\\\mathtt{l1m1w1}$')

    Parameters: ``expression``; ``net`` and ``naming`` as :func:`formula_latex`.
    """

    def __init__(self, expression, net=None, naming=None):
        self.expression = _in_scheme(expression, net, naming)

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {formula_latex(self.expression)}$"

    def __str__(self) -> str:
        return formula_text(self.expression)

    __repr__ = __str__


def show(expression, net=None, naming=None) -> Formula:
    """Wrap an expression for display (see :class:`Formula`); ``naming="r"`` shows the R names."""
    return Formula(expression, net, naming)
