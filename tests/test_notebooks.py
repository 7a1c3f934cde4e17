"""Every notebook runs top to bottom; the values it computes are checked here.

Each notebook keeps what it computes in a dict ``RESULTS``; after running it, a cell
appended here prints that dict as JSON for the assertions.
"""

import json
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run_notebook(name: str, timeout: int = 600) -> dict:
    """Execute ``notebooks/<name>`` in a fresh kernel and return its RESULTS."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("import json; print(json.dumps(RESULTS, default=float))"))
    environment = {"MPLBACKEND": "Agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    os.environ.update(environment)
    client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    output = notebook.cells[-1].outputs[0]["text"]
    return json.loads(output)


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
