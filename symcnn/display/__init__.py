"""Everything symcnn shows a person: progress, text, formulas and pictures. The only code that prints.

The submodules each do one job: :mod:`.progress` (progress bars), :mod:`.text` (lines and tables),
:mod:`.formulas` (expressions as LaTeX and pretty text, with :mod:`.ordering` and
:mod:`.printers` for the textbook order and shortened sums), :mod:`.derivations` (the chain rule
for one weight, step by step), :mod:`.ledgers` (chain-rule ledgers, rolled forms, cost tables),
:mod:`.plots` (figures) and :mod:`.figures` (the Figure they return, which shows itself in Jupyter).

>>> import symcnn as sc
>>> sc.display.format_table([["conv1", 625]], ["layer", "positions"]).splitlines()[2]
'| conv1 | 625 |'
"""

from .derivations import derivation_latex, derivation_text
from .formulas import (Formula, broken_lines, derivative_latex, derivative_text, display_math, equations_latex,
                       formula_latex, formula_text, rendered_width, show)
from .ledgers import costs_text, latex_number, ledger_html, ledger_latex, ledger_text, rolled_latex, rolled_text
from .plots import (PLOTS_MISSING, layer_graph_dot, plot_feature_maps, plot_gradients, plot_heatmap, plot_kernels,
                    plot_confusion_matrix, plot_ledger, plot_loss_curve, plot_representations, plot_saliency)
from .printers import shortened
from .progress import ProgressBar
from .text import echo, format_table

__all__ = ["Formula", "PLOTS_MISSING", "ProgressBar", "broken_lines", "costs_text", "derivation_latex",
           "derivation_text", "derivative_latex", "derivative_text", "display_math", "echo", "equations_latex",
           "format_table", "formula_latex", "formula_text", "latex_number",
           "layer_graph_dot", "ledger_html", "ledger_latex", "ledger_text", "plot_confusion_matrix",
           "plot_feature_maps", "plot_gradients", "plot_heatmap", "plot_kernels", "plot_ledger", "plot_loss_curve",
           "plot_representations", "plot_saliency", "rendered_width", "rolled_latex", "rolled_text", "shortened",
           "show"]
