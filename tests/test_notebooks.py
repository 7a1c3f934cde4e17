"""Every notebook runs top to bottom; the values it computes are checked here.

Each notebook keeps what it computes in a dict ``RESULTS``; after running it, a cell
appended here prints that dict as JSON for the assertions.
"""

import json
import math
import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PLOTTING_CALL = re.compile(r"\b(plot_\w+|plt\.\w+|pyplot\.\w+)\s*\(")  # symcnn.display.plot_*, pyplot


def cells_without_pictures(notebook) -> list[str]:
    """The executed code cells that call a plotting function but show no PNG (index and first line)."""
    return [f"cell {index}: {cell.source.splitlines()[0]}" for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and PLOTTING_CALL.search(cell.source)
            and not any("image/png" in output.get("data", {}) for output in cell.outputs)]


def run_notebook(name: str, timeout: int = 600) -> dict:
    """Execute ``notebooks/<name>`` in a fresh kernel (matplotlib's default backend there, as in Jupyter),
    check that every plotting cell shows a picture, and return its RESULTS."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("import json; print(json.dumps(RESULTS, default=float))"))
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    missing = cells_without_pictures(notebook)
    assert not missing, f"{name}: plotting cells without a picture: {missing}"
    output = notebook.cells[-1].outputs[0]["text"]
    return json.loads(output)


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
    losses = results["losses"]
    assert len(losses) == 21 and all(b < a for a, b in zip(losses, losses[1:]))
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
    assert results["losses_finite"] and results["last_loss"] < results["first_loss"]
    assert results["accuracy"] >= 0.85  # measured 0.892


def test_network_b_reference_protocol():
    results = run_notebook("network_b.ipynb")
    assert results["shapes"] == [[16, 21, 21], [8, 9, 9], [648], [10]]
    assert results["losses_finite"] and results["steps"] == 1000
    assert results["accuracy"] >= 0.45  # measured 0.559 (seed 0)
    confusion = results["confusion"]
    assert len(confusion) == 10 and all(len(row) == 10 for row in confusion)
    assert sum(map(sum, confusion)) == 1000
    assert results["confusion_accuracy"] == pytest.approx(results["accuracy"])


def test_network_d_loss_falls():
    results = run_notebook("network_d.ipynb")
    assert results["parameter_shapes"] == {"conv1.weight": [5, 1, 3, 3], "conv2.weight": [5, 1, 5, 5],
                                           "conv3.weight": [5, 1, 7, 7], "dense4.weight": [2, 1125]}
    assert results["shared_weight_uses"] == 5  # one kernel weight read from each of the 5 channels
    losses = results["losses"]
    assert len(losses) == 51 and all(map(math.isfinite, losses))
    assert all(b < a for a, b in zip(losses, losses[1:]))  # measured: every step down
    assert losses[-1] < 0.5 * losses[0]  # measured 2.416 -> 0.179


def test_inspecting_derivatives():
    results = run_notebook("inspecting_derivatives.ipynb")
    assert results["ledger_total"] == pytest.approx(results["engine_gradient"], rel=1e-9)
    assert results["ledger_terms"] == 21 * 21
    assert results["z_rolled"] == pytest.approx(results["z_engine"], rel=1e-12)
    assert results["z_expanded"] == pytest.approx(results["z_engine"], rel=1e-12)
    assert results["gradient_rolled"] == pytest.approx(results["engine_gradient"], rel=1e-9)
    assert results["gradient_expanded"] == pytest.approx(results["engine_gradient"], rel=1e-9)
    assert results["gradient_expanded_terms"] == 21 * 21
    assert results["receptive_field_pixels"] == 13 * 13 and results["saliency_inside_field"]
    assert results["c_has_function"]
    assert results["export_value"] == pytest.approx(results["engine_value"], rel=1e-12)
    assert results["r_weight_name"] == "l1m1w1" and results["r_text"] == "l1m1w3*inp_5"  # w x, as z = sum w x
