"""What symcnn shows: pictures and the layer graph (formulas and ledgers: tests/test_display_formulas.py)."""

import shutil
import subprocess
import sys

import pytest

from symcnn import display

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def test_every_picture_is_a_figure_saved_on_request(net_a, net_c, photo, digit, tmp_path):
    x, y = digit
    ledger = net_a.ledger(photo, 1.0, net_a.weight_symbols("conv1.weight")[0, 0, 2, 2])
    figures = {
        "maps_a": display.plot_feature_maps(net_a, photo, path=tmp_path / "maps_a.png"),
        "maps_c": display.plot_feature_maps(net_c, x, path=tmp_path / "maps_c.png"),
        "kernels": display.plot_kernels(net_c, path=tmp_path / "kernels.png"),
        "gradients": display.plot_gradients(net_c, x, y, path=tmp_path / "gradients.png"),
        "saliency": display.plot_saliency(net_c, x, y=y, path=tmp_path / "saliency.png"),
        "ledger": display.plot_ledger(ledger, path=tmp_path / "ledger.png"),
        "heatmap": display.plot_heatmap(ledger.input_map(), "terms", path=tmp_path / "heatmap.png", image=photo),
        "loss": display.plot_loss_curve([0.9, 0.5, 0.3, 0.2], path=tmp_path / "loss.png", accuracy=[0.5, 0.8]),
    }
    for name, figure in figures.items():
        assert isinstance(figure, matplotlib.figure.Figure)
        assert (tmp_path / f"{name}.png").stat().st_size > 1000, name
    titles = [axis.get_title() for axis in figures["kernels"].axes if axis.get_title()]
    assert len(titles) == 8 and titles[-1] == "conv1.weight[7, 0]"


def test_pictures_without_matplotlib_say_how_to_get_it(monkeypatch):
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.pyplot"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=r'pip install "symcnn\[plots\]"'):
        display.plot_loss_curve([1.0, 0.5])
    with pytest.raises(ImportError, match=r'pip install "symcnn\[plots\]"'):
        display.plots._pyplot()


def test_layer_graph_as_dot_text(net_c):
    dot = display.layer_graph_dot(net_c)
    assert dot.startswith("digraph symcnn {") and dot.endswith("}")
    assert "input -> conv1" in dot and "conv1 -> pool2" in dot and "-> loss;" in dot
    assert "80 parameters" in dot and "15690 parameters" in dot
    if shutil.which("dot"):
        subprocess.run(["dot", "-Tsvg"], input=dot, text=True, check=True, capture_output=True)
