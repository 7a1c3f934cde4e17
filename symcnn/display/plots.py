"""Pictures: feature maps, kernels, heatmaps of gradients and saliency, ledgers, loss curves."""

from __future__ import annotations

import numpy as np

from ..naming import text_name


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
    from ..inspect import receptive_field, saliency
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
