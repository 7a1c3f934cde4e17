"""Pictures: feature maps, kernels, heatmaps of gradients and saliency, ledgers, loss curves, confusion matrices.

Every function returns an :class:`~symcnn.display.figures.InlineFigure`: a matplotlib Figure
that shows itself when it is a Jupyter cell's value and is saved with ``savefig`` (or by
passing ``path``). Colour scales follow one rule: signed quantities (gradients, kernels,
saliency, ledger terms, linear outputs) use a diverging map symmetric about 0; counts and
non-negative maps use a sequential one; panels that are compared share one scale and one
colour bar.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..naming import text_name


PLOTS_MISSING = 'plotting needs matplotlib: pip install "symcnn[plots]"'
DIVERGING, SEQUENTIAL, COUNTS, GREY = "RdBu_r", "viridis", "Blues", "gray"


def _empty_figure(size):
    """An InlineFigure of ``size`` inches, outside pyplot's registry (no GUI, nothing to close)."""
    try:
        from .figures import InlineFigure
    except ImportError:
        raise ImportError(PLOTS_MISSING) from None
    return InlineFigure(figsize=size)


def _new_figure(rows: int, columns: int, size):
    """An InlineFigure and its (rows, columns) array of axes."""
    figure = _empty_figure(size)
    return figure, figure.subplots(rows, columns, squeeze=False)


def _finish(figure, path, title=None):
    """The figure with its title, saved to ``path`` when one is given."""
    if title:
        figure.suptitle(title)
    if path is not None:
        figure.savefig(path, dpi=110, bbox_inches="tight")
    return figure


def size_text(shape) -> str:
    """A shape as a reader writes it.

    >>> size_text((1, 25, 25))
    '1×25×25'
    """
    return "×".join(str(int(n)) for n in shape)


def symmetric_scale(values) -> dict:
    """The diverging map symmetric about 0 out to the largest |value| (-1..1 for all zeros): for signed
    quantities shown alone (a change, a gradient).

    >>> symmetric_scale(np.array([0.5, -2.0]))
    {'cmap': 'RdBu_r', 'vmin': -2.0, 'vmax': 2.0}
    """
    limit = float(np.abs(values).max()) or 1.0
    return {"cmap": DIVERGING, "vmin": -limit, "vmax": limit}


def colour_scale(*arrays) -> dict:
    """One colour scale for panels that are compared: imshow's cmap, vmin and vmax.

    Signed values get the diverging map symmetric about 0, non-negative ones the
    sequential map over their range.

    >>> import numpy as np
    >>> colour_scale(np.array([-1.0, 0.5]), np.array([2.0]))
    {'cmap': 'RdBu_r', 'vmin': -2.0, 'vmax': 2.0}
    >>> colour_scale(np.array([0.2, 0.7]))
    {'cmap': 'viridis', 'vmin': 0.2, 'vmax': 0.7}
    """
    values = np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in arrays])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {"cmap": SEQUENTIAL, "vmin": 0.0, "vmax": 1.0}
    low, high = float(values.min()), float(values.max())
    if low < 0:
        limit = max(abs(low), abs(high))
        return {"cmap": DIVERGING, "vmin": -limit, "vmax": limit}
    return {"cmap": SEQUENTIAL, "vmin": low, "vmax": high}


def _plain(axis):
    axis.set_xticks([])
    axis.set_yticks([])


def _image(axis, array, title, **scale):
    """``array`` drawn on ``axis`` with ``scale`` (or its own scale); returns the image for a colour bar."""
    array = np.asarray(array, dtype=float)
    shown = axis.imshow(array, **(scale or colour_scale(array)))
    axis.set_title(title, fontsize=9)
    _plain(axis)
    return shown


def _image_array(values, argument: str) -> np.ndarray:
    """``values`` as a float array of 2 (H, W) or 3 (C, H, W) dimensions, or a ValueError naming ``argument``."""
    array = np.asarray(values, dtype=float)
    if array.ndim not in (2, 3) or 0 in array.shape:
        raise ValueError(f"{argument} must be an image of shape (H, W) or (C, H, W), got shape {array.shape}")
    return array


def _colour_bar(shown, axes):
    axes = list(np.ravel(axes))
    return axes[0].figure.colorbar(shown, ax=axes, shrink=0.9 if len(axes) > 1 else 1.0, fraction=0.05)


def plot_representations(image, before: dict, after: dict, path=None, title=None):
    """The input and each hidden feature map before training, after it, and the change.

    ``before``/``after`` map layer names to (C, H, W) arrays (``Network.feature_maps``); the
    first channel of each map is shown. A layer's before and after share one colour scale
    (one colour bar), so what training changed is what looks different; the bottom row is
    after - before on a scale symmetric about 0.

    >>> import numpy as np
    >>> figure = plot_representations(np.zeros((1, 4, 4)), {"conv1": np.full((2, 2, 2), 0.2)},
    ...                               {"conv1": np.full((2, 2, 2), 0.6)})
    >>> [axis.get_title() for axis in figure.axes[:4]]
    ['input (1×4×4)', 'conv1 (2×2×2), channel 0', '', '']
    >>> figure.axes[1].images[0].get_clim() == figure.axes[3].images[0].get_clim()
    True

    Parameters: ``image`` (C, H, W); ``before``, ``after``; ``path`` to save a PNG; ``title``.
    """
    image = _image_array(image, "image")
    names = [name for name in before if np.ndim(before[name]) == 3]
    for name in names:
        if name not in after or np.shape(after[name]) != np.shape(before[name]):
            raise ValueError(f"after must hold a map of shape {np.shape(before[name])} for layer {name!r}, like "
                             f"before; got {np.shape(after[name]) if name in after else 'none'}")
    figure, axes = _new_figure(3, len(names) + 1, (2.7 * (len(names) + 1), 7.2))
    axes[0, 0].imshow(image[0] if image.ndim == 3 else image, cmap=GREY)
    axes[0, 0].set_title(f"input ({size_text(image.shape)})", fontsize=9)
    for row, label in enumerate(["before training", "after training", "after − before"]):
        _plain(axes[row, 0])
        axes[row, 0].set_ylabel(label)
        if row:
            axes[row, 0].set_frame_on(False)
    for column, name in enumerate(names, start=1):
        old, new = np.asarray(before[name], dtype=float), np.asarray(after[name], dtype=float)
        channel = ", channel 0" if old.shape[0] > 1 else ""
        scale = colour_scale(old[0], new[0])
        shown = _image(axes[0, column], old[0], f"{name} ({size_text(old.shape)}){channel}", **scale)
        _image(axes[1, column], new[0], "", **scale)
        _colour_bar(shown, axes[:2, column])
        change = new[0] - old[0]
        _colour_bar(_image(axes[2, column], change, "", **symmetric_scale(change)), axes[2, column])
    return _finish(figure, path, title)


def plot_feature_maps(net, x, path=None, channels: int = 4, title=None):
    """The input image and every layer's output for one image (up to ``channels`` channels each).

    Each column is a layer, titled with its output size; its channels share one colour scale.
    Dense outputs are drawn as bars over their unit indices.

    >>> import numpy as np, symcnn as sc
    >>> figure = plot_feature_maps(sc.presets.network_a(), np.zeros((1, 27, 27)))
    >>> [axis.get_title() for axis in figure.axes[:3]]
    ['input (1×27×27)', 'conv1 (1×25×25)', 'conv2 (1×21×21)']

    Parameters: ``net``; ``x`` one image (C, H, W); ``path``; ``channels``; ``title``.
    """
    hidden = net.feature_maps(x)  # checks x against the network's input shape
    maps = {"input": np.asarray(x, dtype=float), **hidden}
    last = list(maps)[-1]
    rows = max(min(m.shape[0], channels) if m.ndim == 3 else 1 for m in maps.values())
    figure, axes = _new_figure(rows, len(maps), (2.6 * len(maps), 2.3 * rows + 0.4))
    for column, (name, values) in enumerate(maps.items()):
        header = f"{name} ({size_text(values.shape)})"
        for axis in axes[1:, column] if values.ndim == 3 else axes[:, column]:
            axis.axis("off")
        if values.ndim == 1:
            _bars(axes[0, column], values, header, "output unit" if name == last else "unit")
            continue
        shown_channels = min(values.shape[0], channels)
        scale = {"cmap": GREY} if name == "input" else colour_scale(values[:shown_channels])
        for row in range(shown_channels):
            axes[row, column].axis("on")
            label = header if values.shape[0] == 1 else f"{header}\nchannel {row}" if row == 0 else f"channel {row}"
            shown = _image(axes[row, column], values[row], label, **scale)
        if name != "input":
            _colour_bar(shown, axes[:shown_channels, column])
    return _finish(figure, path, title)


def _bars(axis, values, title, unit="unit"):
    """A vector as bars, unit index on the x axis; signed values coloured by sign."""
    units = np.arange(len(values))
    axis.axis("on")
    axis.bar(units, values, color=np.where(values < 0, "tab:red", "tab:blue"))
    axis.axhline(0, color="black", linewidth=0.6)
    axis.set_xticks(units if len(values) <= 20 else units[::max(1, len(values) // 10)])
    axis.set_xlabel(unit, fontsize=8)
    axis.tick_params(labelsize=7)
    axis.set_title(title, fontsize=9)


def plot_kernels(net, path=None, limit: int = 8, title=None):
    """Every convolution's kernels as images: one block per layer, filters in rows and input channels in columns.

    A layer with one input channel has its filters in one row. Each block is one weight
    array on one scale symmetric about 0 (one colour bar); up to ``limit`` filters and channels.

    >>> import symcnn as sc
    >>> figure = plot_kernels(sc.presets.network_c())
    >>> [text.get_text() for block in figure.subfigs for text in block.texts]
    ['conv1.weight (8×1×3×3): [filter, channel]']
    >>> [axis.get_title() for axis in figure.axes[:3]]
    ['[0, 0]', '[1, 0]', '[2, 0]']

    Parameters: ``net``; ``path``; ``limit`` of filters and channels shown; ``title``.
    """
    kernels = {key: value for key, value in net.params.items() if key.endswith(".weight") and value.ndim == 4}
    if not kernels:
        raise ValueError("plot_kernels: the network has no convolution weights to show")
    grids = {}
    for key, weights in kernels.items():
        filters, channels = min(weights.shape[0], limit), min(weights.shape[1], limit)
        grids[key] = (1, filters) if channels == 1 else (filters, channels)
    columns = max(grid[1] for grid in grids.values())
    heights = [grid[0] * 1.25 + 0.5 for grid in grids.values()]
    figure = _empty_figure((1.25 * columns + 1.4, sum(heights) + 0.4))
    blocks = figure.subfigures(len(kernels), 1, height_ratios=heights, squeeze=False)[:, 0]
    for block, (key, weights), (rows, width) in zip(blocks, kernels.items(), grids.values()):
        block.suptitle(f"{key} ({size_text(weights.shape)}): [filter, channel]", fontsize=10)
        axes = block.subplots(rows, columns, squeeze=False)
        for axis in axes.flat:
            axis.axis("off")
        scale = colour_scale(weights, -weights)
        pairs = [(f, 0) for f in range(width)] if rows == 1 else [(f, c) for f in range(rows) for c in range(width)]
        used = []
        for f, c in pairs:
            axis = axes[0, f] if rows == 1 else axes[f, c]
            axis.axis("on")
            shown = _image(axis, weights[f, c], f"[{f}, {c}]", **scale)
            used.append(axis)
        block.colorbar(shown, ax=used, fraction=0.05, shrink=0.9)
    return _finish(figure, path, title)


def plot_heatmap(values, title=None, path=None, image=None):
    """A heatmap: diverging and symmetric about 0 when ``values`` has signs, else sequential.

    ``values`` is 2-D, or (C, H, W) (first channel shown); ``image`` is drawn beneath in grey.

    >>> import numpy as np
    >>> figure = plot_heatmap(np.eye(3) - 0.5, "demo")
    >>> figure.axes[0].get_title(), figure.axes[0].images[0].get_clim()
    ('demo', (-0.5, 0.5))

    Parameters: ``values``; ``title``; ``path``; ``image`` drawn beneath (same height and width).
    """
    values = _image_array(values, "values")
    values = values[0] if values.ndim == 3 else values
    figure, ((axis,),) = _new_figure(1, 1, (4.4, 3.6))
    if image is not None:
        image = _image_array(image, "image")
        image = image[0] if image.ndim == 3 else image
        if image.shape != values.shape:
            raise ValueError(f"image must have the height and width of values, {values.shape}; got {image.shape}")
        axis.imshow(image, cmap=GREY)
    shown = axis.imshow(values, alpha=0.7 if image is not None else 1.0, **colour_scale(values))
    figure.colorbar(shown, ax=axis, fraction=0.05)
    _plain(axis)
    axis.set_title(title or "")
    return _finish(figure, path)


def plot_gradients(net, x, y, path=None, title=None):
    """dL/dw of every weight array at (x, y) as heatmaps symmetric about 0 (first filter and channel of a conv).

    A dense layer's gradient (unit 0) is drawn on its input map's grid when that map was flattened.

    >>> import numpy as np, symcnn as sc
    >>> figure = plot_gradients(sc.presets.network_a(), np.ones((1, 27, 27)), 1.0)
    >>> print([axis.get_title() for axis in figure.axes if axis.get_title()][-1])
    ∂L/∂dense4.weight[0, :]
    on conv3's 15×15 grid

    Parameters: ``net``; ``x`` one image; ``y`` its label; ``path``; ``title``.
    """
    gradients = {k: g for k, g in net.gradients(x, y).items() if k.endswith(".weight")}
    flattened = {node.name + ".weight": (net.graph.nodes[i - 2].name if i > 1 else "input",
                                         net.graph.nodes[i - 1].input_shape)
                 for i, node in enumerate(net.graph.nodes) if i > 0 and node.has_units and node.layer.has_weighted_sum
                 and net.graph.nodes[i - 1].number is None}
    figure, axes = _new_figure(1, len(gradients), (3.3 * len(gradients), 3.2))
    for axis, (key, gradient) in zip(axes[0], gradients.items()):
        if gradient.ndim == 4:
            shown, label = gradient[0, 0], f"∂L/∂{key}[0, 0]\n({size_text(gradient.shape[2:])})"
        elif key in flattened and len(flattened[key][1]) == 3:
            source, shape = flattened[key]
            shown = gradient[0].reshape(shape)[0]  # unit 0, first channel of the flattened map
            channel = ", channel 0" if shape[0] > 1 else ""
            label = f"∂L/∂{key}[0, :]\non {source}'s {size_text(shape[1:])} grid{channel}"
        else:
            shown, label = gradient[:1], f"∂L/∂{key}[0, :]"
        _colour_bar(_image(axis, np.atleast_2d(shown), label, **symmetric_scale(shown)), axis)
    return _finish(figure, path, title)


def plot_saliency(net, x, of=None, y=None, path=None, title=None):
    """The input, the receptive field of ``of``, d``of``/dx and gradient x input, side by side.

    ``of`` is a named z or a, or None for the loss (then ``y`` is needed). The two signed
    panels are each symmetric about 0.

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> figure = plot_saliency(net, np.ones((1, 27, 27)), net.graph.layer_nodes[2].outputs[0, 4, 4])
    >>> [axis.get_title() for axis in figure.axes if axis.get_title()][:2]
    ['input', 'receptive field of a⁽³⁾[0,4,4]\\n(169 of 729 pixels)']

    Parameters: ``net``; ``x`` one image; ``of``; ``y``; ``path``; ``title``.
    """
    image = np.asarray(x, dtype=float)
    target = net.graph.loss_symbol if of is None else of
    gradient = net.saliency(x, of, y)
    field = np.asarray(net.receptive_field(target)[0], dtype=bool)
    name = text_name(target.name)
    figure, axes = _new_figure(1, 4, (12.8, 3.3))
    _image(axes[0, 0], image[0], "input", cmap=GREY)
    _image(axes[0, 1], image[0], f"receptive field of {name}\n({int(field.sum())} of {field.size} pixels)",
           cmap=GREY)
    outside = np.zeros(field.shape + (4,))
    outside[~field] = (1.0, 1.0, 1.0, 0.75)  # pixels that cannot move the target are faded out
    axes[0, 1].imshow(outside)
    if 0 < field.sum() < field.size:
        axes[0, 1].contour(field.astype(float), levels=[0.5], colors="tab:orange", linewidths=1.5)
    for axis, label, values in ((axes[0, 2], f"∂{name}/∂x", gradient[0]),
                                (axes[0, 3], "gradient × input", (gradient * image)[0])):
        _colour_bar(_image(axis, values, label, **symmetric_scale(values)), axis)
    return _finish(figure, path, title)


def plot_ledger(ledger, path=None, title=None):
    """A ledger's terms on the layer's output grid (the weight's filter) and split over the layer's inputs.

    Both panels are symmetric about 0; the title gives the gradient they sum to.

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> ledger = net.ledger(np.ones((1, 27, 27)), 1.0, net.weight_symbols("conv2.weight")[0, 0, 1, 1])
    >>> [axis.get_title() for axis in plot_ledger(ledger).axes if axis.get_title()]
    ['terms by position p (1×21×21)', 'terms by input scalar (1×25×25)']

    Parameters: ``ledger``; ``path``; ``title``.
    """
    positions = np.asarray(ledger.position_map())
    panels = [("terms by position p", positions, ledger.index[0] if positions.ndim == 3 else None, "filter")]
    if ledger.node.weights is not None and ledger.key.endswith(".weight"):
        inputs = np.asarray(ledger.input_map())
        # the channel the weight multiplies, or (shared kernels, dense) the channel its terms fill most
        channel = None if inputs.ndim != 3 else (
            ledger.index[1] if len(ledger.index) == 4 and ledger.node.weights.shape[1] == inputs.shape[0]
            else int(np.abs(inputs).sum(axis=(1, 2)).argmax()))
        panels.append(("terms by input scalar", inputs, channel, "channel"))
    figure, axes = _new_figure(1, len(panels), (3.8 * len(panels), 3.5))
    for axis, (name, values, channel, which) in zip(axes[0], panels):
        grid = values[channel] if channel is not None else np.atleast_2d(values)
        shown = f", {which} {channel}" if channel is not None and values.shape[0] > 1 else ""
        label = f"{name}{shown} ({size_text(values.shape)})"
        _colour_bar(_image(axis, grid, label, **symmetric_scale(grid)), axis)
    return _finish(figure, path, title or f"∂L/∂{text_name(ledger.weight.name)} = {ledger.total:.4g}")


def plot_loss_curve(history, path=None, accuracy=None, title=None):
    """The loss after each step (``net.history``), and optionally accuracy per epoch (right axis, 0 to 1).

    >>> plot_loss_curve([1.0, 0.5, 0.25]).axes[0].get_ylabel()
    'loss'

    Parameters: ``history`` losses; ``path``; ``accuracy`` list (e.g. ``net.accuracy_history``); ``title``.
    """
    history = np.asarray(history, dtype=float)
    figure, ((axis,),) = _new_figure(1, 1, (5.6, 3.4))
    axis.plot(np.arange(1, len(history) + 1), history, color="tab:blue", marker="." if len(history) < 30 else None)
    axis.set_xlabel("step")
    axis.set_ylabel("loss", color="tab:blue")
    axis.grid(alpha=0.3)
    if accuracy:
        other = axis.twinx()
        other.plot(np.linspace(len(history) / len(accuracy), len(history), len(accuracy)), accuracy,
                   "o-", color="tab:orange")
        other.set_ylabel("accuracy (per epoch)", color="tab:orange")
        other.set_ylim(0, 1)
    return _finish(figure, path, title)


def _class_indices(values, argument: str) -> np.ndarray:
    """``values`` as a 1-D array of class indices (whole numbers >= 0), or a ValueError naming ``argument``."""
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{argument} must be a non-empty 1-D sequence of class indices, got shape {array.shape}")
    if array.dtype.kind not in "iuf" or not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
        raise ValueError(f"{argument} must hold whole-number class indices, got {array[:5].tolist()}...")
    if np.any(array < 0):
        raise ValueError(f"{argument} must hold class indices >= 0, got {int(array.min())}")
    return array.astype(int)


def plot_confusion_matrix(true_labels, predicted_labels, classes=None, path=None, title=None):
    """How often each true class (rows) was predicted as each class (columns), every count written in its cell.

    Counts use a sequential colour map from 0; ``classes`` names the classes 0, 1, ... on both
    axes (default: 0 up to the largest label seen). The default title gives the accuracy.

    >>> figure = plot_confusion_matrix([0, 1, 2, 2], [0, 2, 2, 2], classes=["zero", "one", "two"])
    >>> axis = figure.axes[0]
    >>> axis.get_title(), [label.get_text() for label in axis.get_xticklabels()]
    ('accuracy 75.0% (3 of 4)', ['zero', 'one', 'two'])
    >>> [text.get_text() for text in axis.texts][3:6]  # true "one": once predicted as "two"
    ['0', '0', '1']

    Parameters: ``true_labels``, ``predicted_labels`` class indices of equal length
    (e.g. ``net.predict(X).argmax(axis=1)``); ``classes`` their names; ``path``; ``title``.
    """
    true = _class_indices(true_labels, "true_labels")
    predicted = _class_indices(predicted_labels, "predicted_labels")
    if len(true) != len(predicted):
        raise ValueError(f"true_labels and predicted_labels must have the same length, got {len(true)} "
                         f"and {len(predicted)}")
    if classes is None:
        classes = list(range(int(max(true.max(), predicted.max())) + 1))
    elif isinstance(classes, (str, numbers.Number)) or not hasattr(classes, "__len__"):
        raise TypeError(f"classes must be a sequence of class names, got {type(classes).__name__}")
    classes = [str(name) for name in classes]
    count = len(classes)
    if max(true.max(), predicted.max()) >= count:
        raise ValueError(f"classes names {count} classes, but the labels go up to "
                         f"{int(max(true.max(), predicted.max()))}")
    counts = np.bincount(true * count + predicted, minlength=count * count).reshape(count, count)
    side = min(2.0 + 0.55 * count, 9.0)
    figure, ((axis,),) = _new_figure(1, 1, (side + 1.0, side))
    shown = axis.imshow(counts, cmap=COUNTS, vmin=0, vmax=max(int(counts.max()), 1))
    figure.colorbar(shown, ax=axis, fraction=0.05, label="images")
    dark = counts > 0.5 * counts.max()
    for (row, column), value in np.ndenumerate(counts):
        axis.text(column, row, str(value), ha="center", va="center", fontsize=8 if count > 6 else 10,
                  color="white" if dark[row, column] else "black")
    axis.set_xticks(range(count), classes)
    axis.set_yticks(range(count), classes)
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    correct = int(np.trace(counts))
    axis.set_title(title or f"accuracy {correct / len(true):.1%} ({correct} of {len(true)})")
    return _finish(figure, path)


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
