"""Every notebook runs top to bottom; the values it computes are checked here.

Each notebook keeps what it computes in a dict ``RESULTS``; after running it, a cell
appended here prints that dict as JSON for the assertions.
"""

import json
import math
import os
import re
from pathlib import Path

from unittest import mock

import pytest
from conftest import MNIST_DIRECTORY

from tests import katex

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PLOTTING_CALL = re.compile(r"\b(plot_\w+|plt\.\w+|pyplot\.\w+)\s*\(")  # symcnn.display.plot_*, pyplot


def cells_without_pictures(notebook) -> list[str]:
    """The executed code cells that call a plotting function but show no PNG (index and first line)."""
    return [f"cell {index}: {cell.source.splitlines()[0]}" for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and PLOTTING_CALL.search(cell.source)
            and not any("image/png" in output.get("data", {}) for output in cell.outputs)]


MARKDOWN_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$", flags=re.DOTALL)  # $$display$$ or $inline$


def formulas_in(notebook) -> list[str]:
    """Every formula a reader sees: the markdown's $...$ and $$...$$, and each output's LaTeX and HTML math."""
    formulas = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            source = re.sub(r"`[^`]*`", "", cell.source)  # code spans hold no math
            formulas += [display or inline for display, inline in MARKDOWN_MATH.findall(source)]
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/latex" in data:
                formulas.append(katex.unwrap_display_math(data["text/latex"]))
            if "\\(" in data.get("text/html", ""):
                formulas += katex.math_in_html(data["text/html"])
    return formulas


def run_notebook(name: str, timeout: int = 600) -> dict:
    """Execute ``notebooks/<name>`` in a fresh kernel (matplotlib's default backend there, as in Jupyter),
    check that every plotting cell shows a picture and that KaTeX renders every formula, and return RESULTS."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("import json; print(json.dumps(RESULTS, default=float))"))
    # the notebooks find MNIST through symcnn.data.mnist_directory(), which reads SYMCNN_MNIST
    environment = {"PYDEVD_DISABLE_FILE_VALIDATION": "1", "SYMCNN_MNIST": str(MNIST_DIRECTORY)}
    client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    with mock.patch.dict(os.environ, environment):  # the kernel inherits this environment
        client.execute()
    missing = cells_without_pictures(notebook)
    assert not missing, f"{name}: plotting cells without a picture: {missing}"
    katex.install()
    katex.assert_renders(formulas_in(notebook))
    output = notebook.cells[-1].outputs[0]["text"]
    return json.loads(output)


def agrees(value, expected) -> bool:
    """Equal to a relative 1e-12: a sum of chain-rule terms against the fast evaluator's gradient."""
    return value == pytest.approx(expected, rel=1e-12)


def test_a_plotting_cell_without_a_picture_is_found():
    shown = nbformat.v4.new_code_cell("sc.display.plot_loss_curve([1.0, 0.5])", outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})])
    assigned = nbformat.v4.new_code_cell("figure = sc.display.plot_kernels(net)", outputs=[])
    plain = nbformat.v4.new_code_cell("net.loss(x, y)", outputs=[])
    notebook = nbformat.v4.new_notebook(cells=[shown, assigned, plain])
    assert cells_without_pictures(notebook) == ["cell 1: figure = sc.display.plot_kernels(net)"]


def test_notebooks_are_stored_without_outputs():
    for path in NOTEBOOKS.glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name} has stored outputs"


def test_network_a_walkthrough():
    results = run_notebook("network_a.ipynb")
    assert results["conv2_terms"] == 25
    assert results["r_names"] == ["l1m1w1", "l1m1w2", "l1m1w3", "l4w17_1"]
    assert results["activation_partial"] == "a__2_0_3_4*(1 - a__2_0_3_4)"
    assert results["weight_partial"] == "a__1_0_5_5"
    assert results["gradient_terms"] == 21 * 21
    assert results["max_relative_error_vs_torch"] < 1e-9
    assert agrees(results["ledger_total"], results["engine_gradient"]) and results["ledger_terms"] == 21 * 21
    # the derivation of a conv1 weight ends in the gradient the fast evaluator computes
    assert agrees(results["derivation_total"], results["derivation_engine_gradient"])
    assert results["derivation_total"] != 0
    assert 0 < results["first_prediction"] < 1
    assert results["first_loss"] == pytest.approx(-math.log(results["first_prediction"]), rel=1e-9)  # L = -log p
    losses = results["losses"]
    assert len(losses) == 21 and all(b < a for a, b in zip(losses, losses[1:]))
    assert losses[0] == pytest.approx(results["first_loss"], rel=1e-12)
    changes = results["largest_weight_change"]
    assert all(change > 0 for change in changes.values())
    assert results["median_step_seconds"] > 0


def test_network_c_building_blocks_and_training():
    results = run_notebook("network_c.ipynb")
    assert results["tiny_shapes"] == [[1, 3, 3], [1, 2, 2], [4], [1]]
    assert results["corner_terms"] == 5 and results["middle_terms"] == 10  # padding drops 5 of 9 weights
    assert results["relu_partial"] == "Step(z__1_0_0_0)"
    assert results["padded_weight_partial"] == "0" and results["inner_weight_partial"] == "x_0_0_0"
    assert "2*i + u - 1" in results["rolled_conv"] and results["rolled_expanded_match"]
    assert sorted(results["maxpool_partials"]) == [0.0, 0.0, 0.0, 1.0] and results["maxpool_winner_is_max"]
    assert results["avgpool_partials"] == ["1/4"] * 4
    assert results["tiny_max_gradient_error"] < 1e-6
    assert results["shapes"] == [[8, 28, 28], [8, 14, 14], [1568], [10]]
    # dL/dw of a dense weight = (p_k - t_k) a_j, computed from the prediction: ledger, derivation, evaluator agree
    assert results["dense_expected"] == pytest.approx(results["dense_engine_gradient"], rel=1e-9)
    assert agrees(results["dense_ledger_total"], results["dense_engine_gradient"])
    assert agrees(results["derivation_total"], results["dense_engine_gradient"])
    assert agrees(results["conv_ledger_total"], results["conv_engine_gradient"])
    u, v = results["conv_weight_entry"]  # an off-centre entry meets the padding in one row and column
    assert results["conv_ledger_terms"] == (28 - (u != 1)) * (28 - (v != 1))
    assert 0 < results["conv_nonzero_terms"] <= 14 * 14  # a 2x2 max-pool passes one position in four
    assert results["losses_finite"] and results["last_loss"] < results["first_loss"]
    assert results["accuracy"] >= 0.85  # measured 0.892
    confusion = results["confusion"]
    assert sum(map(sum, confusion)) == 1000
    assert sum(confusion[k][k] for k in range(10)) / 1000 == pytest.approx(results["accuracy"])
    assert results["trained_probability"] > 0.5


def test_network_b_reference_protocol():
    results = run_notebook("network_b.ipynb")
    assert results["shapes"] == [[16, 21, 21], [8, 9, 9], [648], [10]]
    assert results["parameter_count"] == 16 * 64 + 16 + 8 * 16 * 16 + 8 + 10 * 648 + 10
    assert results["conv1_terms"] == 8 * 8 + 1 and results["conv2_terms"] == 16 * 4 * 4 + 1
    # position (3, 10, 10), weight (3, 0, 2, 5): the pixel at row 10 + 2, column 10 + 5
    assert results["conv1_weight_partial"] == "x_0_12_15"
    assert results["conv1_bias_partial"] == "1" and results["identity_partial"] == "1"
    # z2 at (0, 4, 4) reads a1 at (5, 2*4 + u, 2*4 + v): a1[5, 9, 10] meets u = 1, v = 2
    assert results["conv2_input_partial"] == "w__2_0_5_1_2"
    assert results["conv2_receptive_field"] == 11 * 11
    # BP1 for softmax + cross-entropy: dL/dz_k = p_k - t_k, from the ledger vs from the prediction
    assert results["dense_upstream"] == pytest.approx(results["dense_upstream_expected"], rel=1e-9, abs=1e-12)
    assert results["trained_upstream"] == pytest.approx(results["trained_upstream_expected"], rel=1e-9, abs=1e-12)
    assert results["dense_ledger_total"] == pytest.approx(results["dense_engine_gradient"], rel=1e-12)
    assert results["conv1_ledger_terms"] == 21 * 21
    assert results["conv1_ledger_total"] == pytest.approx(results["conv1_engine_gradient"], rel=1e-12)
    assert results["dense_derivation_rules"] == ["BP1", "BP4"]
    assert agrees(results["dense_derivation_total"], results["dense_engine_gradient"])
    # a network without activations is affine: dz/dx is the same for two different images
    assert results["template_difference"] <= 1e-12 * results["template_size"] and results["template_size"] > 0
    assert results["losses_finite"] and results["steps"] == 1000
    assert results["last_100_mean_loss"] < 0.5 * results["first_100_mean_loss"]  # measured 31.6 -> 9.0
    assert results["running_mean_last"] < 0.5 * results["running_mean_first"]  # measured 40.3 -> 7.9
    assert results["accuracy"] >= 0.45 > results["accuracy_before"]  # measured 0.089 before, 0.559 after (seed 0)
    confusion = results["confusion"]
    assert len(confusion) == 10 and all(len(row) == 10 for row in confusion)
    assert sum(map(sum, confusion)) == 1000
    assert results["confusion_accuracy"] == pytest.approx(results["accuracy"])


def test_network_d_loss_falls():
    results = run_notebook("network_d.ipynb")
    assert 0 < results["threes"] < 50  # both digits among the 50 training images
    assert results["parameter_shapes"] == {"conv1.weight": [5, 1, 3, 3], "conv2.weight": [5, 1, 5, 5],
                                           "conv3.weight": [5, 1, 7, 7], "dense4.weight": [2, 1125]}
    assert results["relu_partial"] == "Step(z__1_0_3_4)"
    assert results["conv1_weight_partial"] == "x_0_4_5"  # position (0, 3, 4), kernel entry (1, 1)
    assert results["shared_weight_uses"] == 5  # one kernel weight read from each of the 5 channels
    assert results["shared_partial_terms"] == 5  # so dz/dw is a sum of 5 activations
    assert sum(results["first_probabilities"]) == pytest.approx(1.0, rel=1e-12)
    assert results["ledger_terms"] == 21 * 21 and results["ledger_total"] != 0
    assert results["ledger_total"] == pytest.approx(results["engine_gradient"], rel=1e-12)
    rules = results["derivation_rules"]
    assert rules[0] == "BP1" and rules[-1] == "BP4" and set(rules[1:-1]) == {"BP2"}
    assert results["derivation_total"] == pytest.approx(results["engine_gradient"], rel=1e-12)
    active = results["conv2_active_positions"][results["filter_index"]]
    assert 0 < active and results["ledger_zero_terms"] >= 21 * 21 - active  # ReLU off: that term is 0
    # softmax + bce summed over two outputs is twice the cross-entropy: dL/dz = 2 (p - t)
    assert results["dense_upstream"] == pytest.approx(results["dense_upstream_expected"], rel=1e-9)
    losses = results["losses"]
    assert len(losses) == 51 and all(map(math.isfinite, losses))
    assert all(b < a for a, b in zip(losses, losses[1:]))  # measured: every step down
    assert losses[-1] < 0.5 * losses[0]  # measured 2.416 -> 0.179
    assert results["train_accuracy"] >= 0.9  # measured 1.0
    assert results["held_out_accuracy"] >= 0.9 > results["held_out_accuracy_before"]  # measured 0.984 and 0.532
    confusion = results["held_out_confusion"]
    assert sum(map(sum, confusion)) == 400
    assert (confusion[0][0] + confusion[1][1]) / 400 == pytest.approx(results["held_out_accuracy"])
    assert all(0 < change < 0.1 for change in results["largest_weight_change"].values())


def test_inspecting_derivatives():
    results = run_notebook("inspecting_derivatives.ipynb")
    assert results["ledger_total"] == pytest.approx(results["engine_gradient"], rel=1e-9)
    assert results["ledger_terms"] == 21 * 21
    assert agrees(results["derivation_total"], results["engine_gradient"])
    assert results["derivation_rules"] == ["BP1", "BP2", "BP2", "BP2", "BP2", "BP4"]  # output error; back to a and z of conv3, conv2; the sum
    assert results["z_rolled"] == pytest.approx(results["z_engine"], rel=1e-12)
    assert results["z_expanded"] == pytest.approx(results["z_engine"], rel=1e-12)
    assert results["gradient_rolled"] == pytest.approx(results["engine_gradient"], rel=1e-9)
    assert results["gradient_expanded"] == pytest.approx(results["engine_gradient"], rel=1e-9)
    assert results["gradient_expanded_terms"] == 21 * 21
    assert results["receptive_field_pixels"] == 13 * 13 and results["saliency_inside_field"]
    assert results["c_has_function"]
    assert results["export_value"] == pytest.approx(results["engine_value"], rel=1e-12)
    assert results["r_weight_name"] == "l1m1w1" and results["r_text"] == "l1m1w3*inp_5"  # w x, as z = sum w x


def test_formulas_are_collected_from_markdown_and_outputs():
    text = nbformat.v4.new_markdown_cell("The sum $z = \\sum_k w_k x_k$ and $$a = \\sigma(z)$$, not `$HOME`.")
    shown = nbformat.v4.new_code_cell("show(z)", outputs=[nbformat.v4.new_output(
        "execute_result", data={"text/latex": "$\\displaystyle x_{0}$", "text/html": "<td>\\(y_{1}\\)</td>"})])
    notebook = nbformat.v4.new_notebook(cells=[text, shown])
    assert formulas_in(notebook) == ["z = \\sum_k w_k x_k", "a = \\sigma(z)", "x_{0}", "y_{1}"]
