"""Everything symcnn shows a person: progress bars, text and pictures. The only module that prints.

>>> with ProgressBar(3, "demo", enabled=False) as bar:
...     for _ in range(3):
...         bar.update(loss=0.5)
>>> bar.done
3
"""

from __future__ import annotations

import html
import sys
import time

import numpy as np
import sympy

from .naming import NamedScalar, check_scheme, text_name


class ProgressBar:
    """A one-line text progress bar on stderr, with the latest loss and a time estimate.

    Parameters: ``total`` steps, a ``label``, and ``enabled`` (False draws nothing).
    """

    def __init__(self, total: int, label: str = "", enabled: bool = True, stream=None, width: int = 30):
        self.total, self.label, self.enabled, self.width = total, label, enabled, width
        self.stream = stream or sys.stderr
        self.done = 0
        self.started = time.perf_counter()
        self._last_draw = 0.0

    def __enter__(self):
        return self

    def update(self, steps: int = 1, **values) -> None:
        """Advance by ``steps`` and show ``values`` (e.g. ``loss=0.3``)."""
        self.done += steps
        now = time.perf_counter()
        if self.enabled and (now - self._last_draw > 0.1 or self.done >= self.total):
            self._last_draw = now
            self._draw(now, values)

    def _draw(self, now, values):
        fraction = self.done / self.total if self.total else 1.0
        filled = int(self.width * fraction)
        elapsed = now - self.started
        remaining = elapsed / fraction - elapsed if fraction > 0 else 0.0
        shown = " ".join(f"{k} {v:.4g}" for k, v in values.items())
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
                          f"{self.done}/{self.total} {shown} {elapsed:.1f}s<{remaining:.1f}s ")
        self.stream.flush()

    def __exit__(self, *exc):
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
        return False


PLOTS_MISSING = 'plotting needs matplotlib: pip install "symcnn[plots]"'


def _pyplot():
    """matplotlib's pyplot, or an ImportError that says how to get it."""
    try:
        import matplotlib
        if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(PLOTS_MISSING) from None
    return plt


def _new_figure(rows: int, columns: int, size):
    """A Figure outside pyplot's registry (no GUI, nothing to close) and its (rows, columns) axes."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(PLOTS_MISSING) from None
    figure = Figure(figsize=size)
    return figure, figure.subplots(rows, columns, squeeze=False)


def plot_representations(image, before: dict, after: dict, path=None, title=None):
    """The input and each hidden feature map, before (top row) and after (bottom row) training.

    ``before``/``after`` map layer names to (C, H, W) arrays (``Network.feature_maps``); the
    first channel of each map is shown. Returns the matplotlib Figure; saves it to ``path``.

    >>> import numpy as np
    >>> figure = plot_representations(np.zeros((1, 4, 4)), {"conv1": np.ones((1, 2, 2))},
    ...                               {"conv1": np.zeros((1, 2, 2))})
    >>> [axis.get_title() for axis in figure.axes[:2]]
    ['input (before)', 'conv1 (before)']
    """
    plt = _pyplot()
    names = list(before)
    figure, axes = plt.subplots(2, len(names) + 1, figsize=(2.6 * (len(names) + 1), 5.4), squeeze=False)
    for row, (label, maps) in enumerate([("before", before), ("after", after)]):
        axes[row, 0].imshow(np.asarray(image)[0], cmap="gray")
        axes[row, 0].set_title(f"input ({label})")
        for column, name in enumerate(names, start=1):
            shown = axes[row, column].imshow(np.asarray(maps[name])[0], cmap="viridis")
            axes[row, column].set_title(f"{name} ({label})")
            figure.colorbar(shown, ax=axes[row, column], fraction=0.046)
    for axis in axes.flat:
        axis.set_xticks([])
        axis.set_yticks([])
    return _finish(figure, path, title)


def echo(line: str = "", stream=None) -> None:
    """Print one line for a person (stdout unless ``stream`` is given)."""
    print(line, file=stream or sys.stdout, flush=True)


def format_table(rows, headers) -> str:
    """A markdown table of ``rows`` (lists of cells) under ``headers``.

    >>> print(format_table([["a", 1.5]], ["name", "value"]))
    | name | value |
    | --- | --- |
    | a | 1.5 |
    """
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# -- readable math -------------------------------------------------------------------------------
class _Shown(sympy.Symbol):
    """A display-only symbol whose name is already the text to print (e.g. ``w⁽²⁾[0,0,1,3]``)."""

    def _pretty(self, printer):
        from sympy.printing.pretty.stringpict import prettyForm
        return prettyForm(self.name)


def _in_scheme(expression, net=None, naming=None):
    """``expression`` with its named scalars renamed to ``naming`` (needs ``net``)."""
    expression = sympy.sympify(expression)
    if naming is None or (net is not None and naming == net.naming):
        return expression
    if net is None:
        raise ValueError("renaming to another naming scheme needs the network (net=...)")
    from .inspect import renamed
    return renamed(net.graph, expression, check_scheme(naming))


def _as_text_symbols(expression):
    return expression.xreplace({s: _Shown(text_name(s.name)) for s in expression.atoms(NamedScalar)})


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
    shown = _as_text_symbols(_in_scheme(expression, net, naming))
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


# -- the chain-rule ledger and rolled forms ------------------------------------------------------
def _derivative_text(of, wrt) -> str:
    return f"∂{text_name(of.name)}/∂{text_name(wrt.name)}"


def _derivative_latex(of, wrt) -> str:
    return rf"\frac{{\partial {sympy.latex(of)}}}{{\partial {sympy.latex(wrt)}}}"


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


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
    path = [[_derivative_text(f.of, f.wrt), _short(formula_text(f.formula, one_line=True)), f"{f.value:.6g}"]
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


def _latex_array(rows, columns: str) -> str:
    body = r" \\ ".join(" & ".join(row) for row in rows)
    return rf"\begin{{array}}{{{columns}}} {body} \end{{array}}"


def _ledger_parts(ledger, rows: int):
    """(title, path rows, term header, term rows) with LaTeX cells, shared by LaTeX and HTML."""
    total, headers = ledger.total, _term_headers(ledger, text=False)
    title = (rf"\frac{{\partial L}}{{\partial {sympy.latex(ledger.weight)}}} = \sum_p "
             + " ".join(headers) + rf" = {total:.6g}")
    path = [[_derivative_latex(f.of, f.wrt), sympy.latex(f.formula), f"{f.value:.6g}"] for f in ledger.path]
    terms = [[str(term.position)] + [f"{f.value:.6g}" for f in term.factors] + [f"{term.value:.6g}"]
             for term in ledger.terms[:rows]]
    return title, path, [r"p"] + headers + [r"\text{term}"], terms


def ledger_latex(ledger, rows: int = 10) -> str:
    r"""The ledger as LaTeX (Jupyter shows it with ``_repr_latex_``): the path and the largest terms.

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> ledger = net.ledger(np.ones((1, 27, 27)), 1.0, net.weight_symbols("dense4.weight")[0, 3])
    >>> ledger_latex(ledger)[:60]
    '$\\displaystyle \\begin{array}{l} \\frac{\\partial L}{\\partial w'

    Parameters: ``ledger``; ``rows``: how many terms to list.
    """
    title, path, header, terms = _ledger_parts(ledger, rows)
    more = len(ledger.terms) - rows
    tail = [rf"\text{{(and {more} more terms)}}"] if more > 0 else []
    parts = [title, _latex_array([[r"\text{factor}", r"\text{formula}", r"\text{value}"]] + path, "lll"),
             _latex_array([header] + terms, "l" + "r" * (len(header) - 1))] + tail
    return r"$\displaystyle \begin{array}{l} " + r" \\[1ex] ".join(parts) + r" \end{array}$"


def ledger_html(ledger, rows: int = 10) -> str:
    """The ledger as HTML tables with LaTeX cells (typeset by Jupyter's MathJax).

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
        cells = [[rf"\({cell}\)" if k in math_columns else cell for k, cell in enumerate(line)] for line in body]
        return ("<table>" + row([rf"\({h}\)" for h in header], "th")
                + "".join(row(line, "td") for line in cells) + "</table>")

    title, path, header, terms = _ledger_parts(ledger, rows)
    shown = f", the {rows} largest shown" if len(ledger.terms) > rows else ""
    return (f"<p>\\({html.escape(title)}\\) ({len(ledger.terms)} terms{shown})</p>"
            + table([r"\text{factor}", r"\text{formula}", r"\text{value}"], path, {0, 1})
            + table(header, terms, set()))


def rolled_latex(form) -> str:
    r"""LaTeX of a rolled form: the general formula, then the chosen scalar's (sums still rolled).

    >>> import symcnn as sc
    >>> from symcnn.inspect import rolled_form
    >>> net = sc.presets.network_a()
    >>> print(rolled_latex(rolled_form(net, net.graph.layer_nodes[0].pre_activations[0, 2, 3])))
    {z^{(1)}}_{f,i,j} = \sum_{\substack{0 \leq c \leq 0\\0 \leq u \leq 2\\0 \leq v \leq 2}} {w^{(1)}}_{f,c,u,v} {x}_{c,i + u,j + v} \qquad {z^{(1)}}_{0,2,3} = \sum_{\substack{0 \leq c \leq 0\\0 \leq u \leq 2\\0 \leq v \leq 2}} {w^{(1)}}_{0,c,u,v} {x}_{c,u + 2,v + 3}
    """
    def side(of, wrt):
        return sympy.latex(of) if wrt is None else _derivative_latex(of, wrt)

    return (f"{side(form.of, form.wrt)} = {sympy.latex(form.general)} \\qquad "
            f"{side(form.of_at, form.wrt_at)} = {sympy.latex(form.at)}")


def rolled_text(form) -> str:
    """Pretty text of a rolled form: the general formula, then the chosen scalar's.

    >>> import symcnn as sc
    >>> from symcnn.inspect import rolled_form
    >>> net = sc.presets.network_a()
    >>> a = net.graph.layer_nodes[0].outputs[0, 2, 3]
    >>> print(rolled_text(rolled_form(net, a, net.graph.layer_nodes[0].pre_activations[0, 2, 3])))
    ∂a⁽¹⁾[f, i, j]/∂z⁽¹⁾[f, i, j] = (1 - a⁽¹⁾[f, i, j])⋅a⁽¹⁾[f, i, j]
    ∂a⁽¹⁾[0, 2, 3]/∂z⁽¹⁾[0, 2, 3] = (1 - a⁽¹⁾[0, 2, 3])⋅a⁽¹⁾[0, 2, 3]
    """
    def side(of, wrt):
        of, wrt = (formula_text(s, one_line=True) if s is not None else None for s in (of, wrt))
        return of if wrt is None else f"∂{of}/∂{wrt}"

    lines = []
    for of, wrt, right in [(form.of, form.wrt, form.general), (form.of_at, form.wrt_at, form.at)]:
        lines.append(sympy.pretty(sympy.Eq(_Shown(side(of, wrt)), _as_text_symbols(right), evaluate=False),
                                  use_unicode=True, wrap_line=False))
    return "\n".join(lines)


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


# -- pictures ------------------------------------------------------------------------------------
def _finish(figure, path, title=None):
    """Title, tight layout, and the figure saved to ``path`` when one is given."""
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=110)
    return figure


def _image(axis, array, title, cmap="viridis", symmetric=False):
    array = np.asarray(array, dtype=float)
    limit = float(np.abs(array).max()) or 1.0
    shown = axis.imshow(array, cmap=cmap, vmin=-limit if symmetric else None, vmax=limit if symmetric else None)
    axis.set_title(title, fontsize=9)
    axis.set_xticks([])
    axis.set_yticks([])
    axis.figure.colorbar(shown, ax=axis, fraction=0.046)


def plot_feature_maps(net, x, path=None, channels: int = 4, title=None):
    """The input image and every layer's output for one image (up to ``channels`` channels each).

    Dense outputs are drawn as bars. Returns the matplotlib Figure; saves it to ``path``.

    >>> import numpy as np, symcnn as sc
    >>> figure = plot_feature_maps(sc.presets.network_a(), np.zeros((1, 27, 27)))
    >>> [axis.get_title() for axis in figure.axes[:3]]
    ['input', 'conv1', 'conv2']

    Parameters: ``net``; ``x`` one image (C, H, W); ``path``; ``channels``; ``title``.
    """
    maps = {"input": np.asarray(x, dtype=float), **net.feature_maps(x)}
    rows = max(min(m.shape[0], channels) if m.ndim == 3 else 1 for m in maps.values())
    figure, axes = _new_figure(rows, len(maps), (2.6 * len(maps), 2.4 * rows))
    for column, (name, values) in enumerate(maps.items()):
        for row in range(rows):
            axis = axes[row, column]
            if values.ndim == 3 and row < min(values.shape[0], channels):
                _image(axis, values[row], name if values.shape[0] == 1 else f"{name} [{row}]",
                       cmap="gray" if name == "input" else "viridis")
            elif values.ndim == 1 and row == 0:
                axis.bar(range(len(values)), values)
                axis.set_title(name, fontsize=9)
            else:
                axis.axis("off")
    return _finish(figure, path, title)


def plot_kernels(net, path=None, limit: int = 8, title=None):
    """Every convolution's kernels as images (filters in rows, up to ``limit`` input channels).

    >>> import symcnn as sc
    >>> figure = plot_kernels(sc.presets.network_a())
    >>> [axis.get_title() for axis in figure.axes[:3]]
    ['conv1.weight[0, 0]', 'conv2.weight[0, 0]', 'conv3.weight[0, 0]']

    Parameters: ``net``; ``path``; ``limit`` of filters and channels shown; ``title``.
    """
    kernels = {key: value for key, value in net.params.items() if key.endswith(".weight") and value.ndim == 4}
    pairs = [(key, f, c) for key, value in kernels.items()
             for f in range(min(value.shape[0], limit)) for c in range(min(value.shape[1], limit))]
    columns = len(kernels)
    rows = max(min(v.shape[0], limit) * min(v.shape[1], limit) for v in kernels.values()) if kernels else 1
    figure, axes = _new_figure(rows, max(columns, 1), (2.6 * max(columns, 1), 2.3 * rows))
    for axis in axes.flat:
        axis.axis("off")
    for column, key in enumerate(kernels):
        for row, (_, f, c) in enumerate(p for p in pairs if p[0] == key):
            axes[row, column].axis("on")
            _image(axes[row, column], kernels[key][f, c], f"{key}[{f}, {c}]", cmap="RdBu_r", symmetric=True)
    return _finish(figure, path, title)


def plot_heatmap(values, title=None, path=None, image=None):
    """A signed heatmap (gradients, saliency, ledger terms), optionally over a grey image.

    ``values`` is 2-D, or (C, H, W) (first channel shown). Returns the Figure.

    >>> import numpy as np
    >>> plot_heatmap(np.eye(3) - 0.5, "demo").axes[0].get_title()
    'demo'

    Parameters: ``values``; ``title``; ``path``; ``image`` drawn beneath (same height and width).
    """
    values = np.asarray(values, dtype=float)
    values = values[0] if values.ndim == 3 else values
    figure, ((axis,),) = _new_figure(1, 1, (4.2, 3.6))
    if image is not None:
        image = np.asarray(image, dtype=float)
        axis.imshow(image[0] if image.ndim == 3 else image, cmap="gray")
    limit = float(np.abs(values).max()) or 1.0
    shown = axis.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, alpha=0.7 if image is not None else 1.0)
    figure.colorbar(shown, ax=axis, fraction=0.046)
    axis.set_xticks([])
    axis.set_yticks([])
    axis.set_title(title or "")
    return _finish(figure, path)


def plot_gradients(net, x, y, path=None, title=None):
    """dL/dw of every weight array at (x, y) as heatmaps (first filter and channel of a conv).

    A dense layer's gradient is drawn on its input map's grid when that map was flattened.

    >>> import numpy as np, symcnn as sc
    >>> figure = plot_gradients(sc.presets.network_a(), np.ones((1, 27, 27)), 1.0)
    >>> [axis.get_title() for axis in figure.axes if axis.get_title()]
    ['dL/dconv1.weight', 'dL/dconv2.weight', 'dL/dconv3.weight', 'dL/ddense4.weight']

    Parameters: ``net``; ``x`` one image; ``y`` its label; ``path``; ``title``.
    """
    gradients = {k: g for k, g in net.gradients(x, y).items() if k.endswith(".weight")}
    shapes = {node.name + ".weight": node.input_shape for node in net.graph.layer_nodes}
    sources = {node.name + ".weight": net.graph.nodes[i - 1].input_shape
               for i, node in enumerate(net.graph.nodes) if i > 0 and node.layer.kind == "dense"
               and net.graph.nodes[i - 1].number is None}
    figure, axes = _new_figure(1, len(gradients), (3.2 * len(gradients), 3.0))
    for axis, (key, gradient) in zip(axes[0], gradients.items()):
        if gradient.ndim == 4:
            shown = gradient[0, 0]
        elif key in sources and len(sources[key]) == 3:
            shown = gradient[0].reshape(sources[key])[0]  # unit 0, first channel of the flattened map
        else:
            shown = gradient[:1] if shapes[key] else gradient
        _image(axis, np.atleast_2d(shown), f"dL/d{key}", cmap="RdBu_r", symmetric=True)
    return _finish(figure, path, title)


def plot_saliency(net, x, of=None, y=None, path=None, title=None):
    """The input, the receptive field of ``of``, d``of``/dx and gradient x input, side by side.

    ``of`` is a named z or a, or None for the loss (then ``y`` is needed).

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> figure = plot_saliency(net, np.ones((1, 27, 27)), net.graph.layer_nodes[2].outputs[0, 4, 4])
    >>> [axis.get_title() for axis in figure.axes if axis.get_title()][:2]
    ['input', 'receptive field of a⁽³⁾[0,4,4]']

    Parameters: ``net``; ``x`` one image; ``of``; ``y``; ``path``; ``title``.
    """
    from .inspect import receptive_field, saliency
    image = np.asarray(x, dtype=float)
    target = net.graph.loss_symbol if of is None else of
    gradient = saliency(net, x, of, y)
    panels = [("input", image[0], "gray", False),
              (f"receptive field of {text_name(target.name)}", receptive_field(net, target)[0], "Greys", False),
              (f"∂{text_name(target.name)}/∂x", gradient[0], "RdBu_r", True),
              ("gradient × input", (gradient * image)[0], "RdBu_r", True)]
    figure, axes = _new_figure(1, len(panels), (3.2 * len(panels), 3.0))
    for axis, (name, values, cmap, symmetric) in zip(axes[0], panels):
        _image(axis, values, name, cmap=cmap, symmetric=symmetric)
    return _finish(figure, path, title)


def plot_ledger(ledger, path=None, title=None):
    """A ledger's terms on the layer's output grid and split over the layer's inputs (first channel).

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> ledger = net.ledger(np.ones((1, 27, 27)), 1.0, net.weight_symbols("conv2.weight")[0, 0, 1, 1])
    >>> [axis.get_title() for axis in plot_ledger(ledger).axes if axis.get_title()]
    ['terms by position p', 'terms by input scalar']

    Parameters: ``ledger``; ``path``; ``title``.
    """

    def grid(values):
        values = np.asarray(values)
        return values[0] if values.ndim == 3 else np.atleast_2d(values)

    panels = [("terms by position p", grid(ledger.position_map()))]
    if ledger.node.weights is not None and ledger.key.endswith(".weight"):
        panels.append(("terms by input scalar", grid(ledger.input_map())))
    figure, axes = _new_figure(1, len(panels), (3.6 * len(panels), 3.2))
    for axis, (name, values) in zip(axes[0], panels):
        _image(axis, values, name, cmap="RdBu_r", symmetric=True)
    return _finish(figure, path, title or f"∂L/∂{text_name(ledger.weight.name)} = {ledger.total:.4g}")


def plot_loss_curve(history, path=None, accuracy=None, title=None):
    """The loss after each step (``net.history``), and optionally accuracy per epoch.

    >>> plot_loss_curve([1.0, 0.5, 0.25]).axes[0].get_ylabel()
    'loss'

    Parameters: ``history`` losses; ``path``; ``accuracy`` list (e.g. ``net.accuracy_history``); ``title``.
    """
    figure, ((axis,),) = _new_figure(1, 1, (5.0, 3.2))
    axis.plot(np.arange(1, len(history) + 1), history, color="tab:blue")
    axis.set_xlabel("step")
    axis.set_ylabel("loss")
    if accuracy:
        other = axis.twinx()
        other.plot(np.linspace(len(history) / len(accuracy), len(history), len(accuracy)), accuracy,
                   "o-", color="tab:orange")
        other.set_ylabel("accuracy")
    return _finish(figure, path, title)


def layer_graph_dot(net) -> str:
    r"""The layer graph as Graphviz dot text (render it with ``dot -Tsvg``; nothing is imported).

    >>> import symcnn as sc
    >>> print(layer_graph_dot(sc.presets.network_a()).splitlines()[3])
      input [label="input\n(1, 27, 27)", shape=ellipse];
    """
    def quoted(text):
        return text.replace("\\", "\\\\").replace('"', '\\"')

    lines = ["digraph symcnn {", "  rankdir=LR;", '  node [shape=box, style=rounded, fontname="Helvetica"];',
             f'  input [label="input\\n{net.input_shape}", shape=ellipse];']
    previous = "input"
    for node in net.graph.nodes:
        name = node.name if node.number is not None else f"flatten_{previous}"
        parameters = sum(np.prod(a.shape) for a in (node.weights, node.bias) if a is not None)
        label = f"{node.name}\\n{quoted(node.layer.describe())}\\n{node.output_shape}"
        if parameters:
            label += f"\\n{int(parameters)} parameters"
        lines.append(f'  {name} [label="{label}"];')
        lines.append(f'  {previous} -> {name} [label="{int(np.prod(node.input_shape))} scalars"];')
        previous = name
    lines.append(f'  loss [label="loss\\n{net.loss_name}", shape=ellipse];')
    lines.append(f"  {previous} -> loss;")
    lines.append("}")
    return "\n".join(lines)
