"""Pictures (symcnn.display.plots): each one shows in IPython, saves as PNG, and its scales and labels tell the truth."""

import base64
import collections
import shutil
import subprocess
import sys

import numpy as np
import pytest

import symcnn as sc
from symcnn import display

matplotlib = pytest.importorskip("matplotlib")
formatters = pytest.importorskip("IPython.core.formatters")
from IPython.core.pylabtools import select_figure_formats  # noqa: E402  (after the skip)
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def net_a():
    return sc.presets.network_a()


@pytest.fixture(scope="module")
def classifier(mnist):
    """Network C and a real MNIST digit with its label."""
    images, labels = mnist()
    return sc.presets.network_c(), images[2], int(labels[2])


@pytest.fixture(scope="module")
def pictures(net_a, classifier, photo):
    """Every plotting function's figure, by name."""
    net_c, x, y = classifier
    ledger = net_a.ledger(photo, 1.0, net_a.weight_symbols("conv1.weight")[0, 0, 2, 2])
    hidden = net_a.feature_maps(photo)
    trained = sc.presets.network_a()
    trained.fit(photo[None], [1.0], lr=0.1, epochs=5, progress=False)
    return {
        "representations": display.plot_representations(photo, hidden, trained.feature_maps(photo)),
        "maps_a": display.plot_feature_maps(net_a, photo),
        "maps_c": display.plot_feature_maps(net_c, x),
        "kernels": display.plot_kernels(net_c),
        "gradients": display.plot_gradients(net_c, x, y),
        "saliency": display.plot_saliency(net_c, x, y=y),
        "ledger": display.plot_ledger(ledger),
        "heatmap": display.plot_heatmap(ledger.input_map(), "terms", image=photo),
        "loss": display.plot_loss_curve([0.9, 0.5, 0.3, 0.2], accuracy=[0.5, 0.8]),
        "confusion": display.plot_confusion_matrix([3, 1, 4, 1, 5, 9, 2, 6], [3, 1, 4, 7, 5, 9, 2, 5],
                                                   classes=range(10)),
    }


def png_bytes(value) -> bytes:
    return base64.b64decode(value) if isinstance(value, str) else value


@pytest.mark.parametrize("inline_backend", [False, True], ids=["any backend", "inline backend formatter"])
def test_every_picture_displays_as_one_png_in_ipython(pictures, inline_backend):
    """As a cell's value: through the figure's own _repr_png_, or matplotlib-inline's formatter for Figures."""
    class Shell:
        display_formatter = formatters.DisplayFormatter()

    if inline_backend:
        select_figure_formats(Shell, {"png"})
    for name, figure in pictures.items():
        data, _ = Shell.display_formatter.format(figure)
        assert png_bytes(data["image/png"]).startswith(PNG_SIGNATURE), name
        assert isinstance(figure, matplotlib.figure.Figure), name


def test_every_picture_saves_a_png(net_a, photo, tmp_path):
    path = tmp_path / "maps.png"
    figure = display.plot_feature_maps(net_a, photo, path=path)
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    figure.savefig(tmp_path / "again.png")
    assert (tmp_path / "again.png").read_bytes().startswith(PNG_SIGNATURE)


def test_no_title_or_label_is_cut_off(pictures):
    """Everything drawn (titles, labels, tick labels, colour bars) lies inside the figure, so a plain savefig keeps it."""
    for name, figure in pictures.items():
        FigureCanvasAgg(figure).draw()
        drawn = figure.get_tightbbox(figure.canvas.get_renderer())  # inches, what is actually drawn
        page = figure.bbox_inches
        tolerance = 1.5 / figure.dpi
        assert page.x0 - tolerance <= drawn.x0 and drawn.x1 <= page.x1 + tolerance, (name, drawn, page)
        assert page.y0 - tolerance <= drawn.y0 and drawn.y1 <= page.y1 + tolerance, (name, drawn, page)
        assert any(text.get_text() for text in figure.findobj(matplotlib.text.Text)), name


def test_before_and_after_share_one_colour_scale_per_layer(pictures):
    figure = pictures["representations"]
    images = [axis.images[0] for axis in figure.axes if axis.images]
    layers = ["conv1", "conv2", "conv3"]
    before, after, change = images[1:4], images[4:7], images[7:10]  # the input comes first
    for layer, old, new, difference in zip(layers, before, after, change):
        assert old.get_clim() == new.get_clim(), layer
        assert old.colorbar is not None and new.colorbar is None, layer  # one colour bar for the pair
        low, high = difference.get_clim()
        assert low == -high and difference.get_cmap().name == "RdBu_r", layer
        assert np.allclose(difference.get_array(), new.get_array() - old.get_array())
    assert not np.allclose(change[-1].get_array(), 0)  # five steps moved conv3's map
    titles = [axis.get_title() for axis in figure.axes[:4]]
    assert titles == ["input (1×27×27)", "conv1 (1×25×25)", "conv2 (1×21×21)", "conv3 (1×15×15)"]


def test_feature_maps_show_sizes_and_pick_the_scale_by_sign(pictures):
    titles = [axis.get_title() for axis in pictures["maps_c"].axes if axis.get_title()]
    assert titles[:4] == ["input (1×28×28)", "conv1 (8×28×28)\nchannel 0", "pool2 (8×14×14)\nchannel 0",
                          "dense3 (10)"]
    assert titles.count("channel 3") == 2  # four channels of conv1 and of pool2
    relu_maps = [axis.images[0] for axis in pictures["maps_c"].axes if axis.get_title().startswith("conv1")]
    assert relu_maps[0].get_cmap().name == "viridis"  # ReLU output: non-negative, sequential
    linear = sc.presets.network_b()  # convolutions without activation: signed maps
    figure = display.plot_feature_maps(linear, np.linspace(0, 1, 784).reshape(1, 28, 28))
    conv = next(axis.images[0] for axis in figure.axes if axis.get_title().startswith("conv1"))
    low, high = conv.get_clim()
    assert conv.get_cmap().name == "RdBu_r" and low == -high
    grid = np.array(figure.axes[:16]).reshape(4, 4)  # input, conv1, conv2, dense3 by four channels
    channels = [axis.images[0] for axis in grid[:, 1]]
    assert grid[0, 1].get_title().startswith("conv1") and grid[3, 1].get_title() == "channel 3"
    assert len({image.get_clim() for image in channels}) == 1  # a layer's channels share its scale


def test_signed_quantities_are_symmetric_about_zero(pictures, classifier):
    net_c, x, y = classifier
    gradients = net_c.gradients(x, y)
    kernel_images = [axis.images[0] for axis in pictures["kernels"].axes if axis.images]
    limit = np.abs(net_c.params["conv1.weight"]).max()
    assert len(kernel_images) == 8
    assert all(image.get_clim() == (-limit, limit) and image.get_cmap().name == "RdBu_r" for image in kernel_images)
    first = next(axis.images[0] for axis in pictures["gradients"].axes if axis.images)
    limit = np.abs(gradients["conv1.weight"][0, 0]).max()
    assert first.get_clim() == pytest.approx((-limit, limit), rel=1e-12)
    for name in ("saliency", "ledger"):
        signed = [axis.images[-1] for axis in pictures[name].axes if axis.images and axis.images[-1].colorbar]
        assert signed and all(image.get_clim()[0] == -image.get_clim()[1] for image in signed), name


def test_confusion_matrix_writes_counts_and_names_classes(pictures):
    true, predicted = [3, 1, 4, 1, 5, 9, 2, 6], [3, 1, 4, 7, 5, 9, 2, 5]
    expected = collections.Counter(zip(true, predicted))
    axis = pictures["confusion"].axes[0]
    cells = {(round(text.get_position()[1]), round(text.get_position()[0])): int(text.get_text())
             for text in axis.texts}
    assert len(cells) == 100
    assert all(cells[row, column] == expected.get((row, column), 0) for row in range(10) for column in range(10))
    assert [label.get_text() for label in axis.get_xticklabels()] == [str(k) for k in range(10)]
    assert [label.get_text() for label in axis.get_yticklabels()] == [str(k) for k in range(10)]
    assert (axis.get_xlabel(), axis.get_ylabel()) == ("predicted class", "true class")
    image = axis.images[0]
    assert image.get_cmap().name == "Blues" and image.get_clim()[0] == 0  # counts: sequential from 0
    assert axis.get_title() == "accuracy 75.0% (6 of 8)"


@pytest.mark.parametrize("true, predicted, classes, message", [
    ([0, 1], [0], None, "same length"),
    ([0, 1.5], [0, 1], None, "whole-number"),
    ([[0, 1]], [[0, 1]], None, "1-D"),
    ([0, -1], [0, 1], None, ">= 0"),
    ([0, 3], [0, 1], ["a", "b"], "up to 3"),
])
def test_confusion_matrix_refuses_bad_labels(true, predicted, classes, message):
    with pytest.raises(ValueError, match=message):
        display.plot_confusion_matrix(true, predicted, classes=classes)


def test_pictures_without_matplotlib_say_how_to_get_it(monkeypatch):
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.pyplot", "symcnn.display.figures"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=r'pip install "symcnn\[plots\]"'):
        display.plot_loss_curve([1.0, 0.5])


def test_layer_graph_as_dot_text():
    dot = display.layer_graph_dot(sc.presets.network_c())
    assert dot.startswith("digraph symcnn {") and dot.endswith("}")
    assert "input -> conv1" in dot and "conv1 -> pool2" in dot and "-> loss;" in dot
    assert "80 parameters" in dot and "15690 parameters" in dot
    if shutil.which("dot"):
        subprocess.run(["dot", "-Tsvg"], input=dot, text=True, check=True, capture_output=True)


def test_wrong_input_is_named(net_a, photo):
    hidden = net_a.feature_maps(photo)
    with pytest.raises(ValueError, match="after must hold a map of shape \\(1, 21, 21\\) for layer 'conv2'"):
        display.plot_representations(photo, hidden, {**hidden, "conv2": np.zeros((1, 5, 5))})
    with pytest.raises(ValueError, match="values must be an image of shape"):
        display.plot_heatmap(np.zeros(5))
    with pytest.raises(ValueError, match="image must have the height and width of values"):
        display.plot_heatmap(np.zeros((3, 3)), image=photo)
    with pytest.raises(ValueError, match="no convolution weights"):
        display.plot_kernels(sc.Network((1, 2, 2), [sc.Flatten(), sc.Dense(1, activation="sigmoid")]))
    with pytest.raises(ValueError):
        display.plot_feature_maps(net_a, np.zeros((27, 27)))
