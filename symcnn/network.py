"""The user-facing network: a symbolic graph, its compiled evaluator and its parameter values.

>>> import numpy as np
>>> import symcnn as sc
>>> net = sc.Network(input_shape=(1, 6, 6), layers=[
...     sc.Conv2D(1, 3, activation="sigmoid", bias=False), sc.Flatten(),
...     sc.Dense(1, activation="sigmoid", bias=False)], loss="bce", seed=0)
>>> {key: value.shape for key, value in net.params.items()}
{'conv1.weight': (1, 1, 3, 3), 'dense2.weight': (1, 16)}
>>> image = np.linspace(0, 1, 36).reshape(1, 6, 6)
>>> before = net.step(image, 1.0, lr=0.1)
>>> bool(net.loss(image, 1.0) < before)
True
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import chainrule, derivation, inspect, persistence, train
from .checks import check_int, is_int
from .display.progress import ProgressBar
from .evaluate import CompiledNetwork, UnrolledEvaluator
from .graph import SymbolicGraph
from .initializers import initialize
from .inspect.cache import InspectionCache
from .naming import check_scheme
from .roles import renamed

#: Builds estimated at this cost or more (about a second, see graph.estimated_build_cost) show a progress bar.
BUILD_PROGRESS_FROM = 100_000

#: A training step is refused if it would leave a parameter array whose Euclidean norm
#: reaches this (or is NaN/inf): then every entry is below 10^150, and a sum of up to 10^8
#: products of two such numbers stays below float64's largest (1.8e308), so the next pass
#: cannot overflow. (One sum over all parameters bounds every array's norm: the check stays cheap.)
MAX_PARAMETER_NORM = 1e150


def _check_input_shape(input_shape) -> tuple[int, int, int]:
    if (not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3
            or not all(is_int(n) for n in input_shape)):
        raise TypeError(f"input_shape must be a (channels, height, width) tuple of ints, got {input_shape!r}")
    if any(n < 1 for n in input_shape):
        raise ValueError(f"input_shape must be positive, got {tuple(input_shape)}")
    return tuple(int(n) for n in input_shape)


def _finite_float_array(value, argument: str) -> np.ndarray:
    """``value`` as a float64 array of real, finite numbers, else a TypeError/ValueError naming ``argument``."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{argument} must be numbers (an array), got {type(value).__name__}")
    try:
        array = np.asarray(value)
    except ValueError:  # nested sequences of unequal lengths
        raise ValueError(f"{argument} is ragged: its nested lists differ in length, so they do not "
                         "form an array") from None
    if array.dtype == object:  # a list mixing numbers with other things
        wrong = [v for v in array.flat if not isinstance(v, numbers.Real) or isinstance(v, (bool, np.bool_))]
        if wrong:
            raise TypeError(f"{argument} must hold real numbers only, found {type(wrong[0]).__name__} {wrong[0]!r}")
    elif array.dtype.kind not in "iuf":  # bool, complex, strings, dates: no silent conversion
        raise TypeError(f"{argument} must hold real numbers (ints or floats), got an array of dtype {array.dtype}")
    array = array.astype(np.float64)
    # one sum finds any NaN or inf (it is then NaN or inf); only a sum that overflowed needs the full test
    if not math.isfinite(np.add.reduce(array, axis=None)) and not np.all(np.isfinite(array)):
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise ValueError(f"{argument} contains {bad} NaN or infinite value(s)")
    return array


class Network:
    """A CNN whose every scalar is a named sympy symbol, compiled for fast evaluation.

    Parameters: ``input_shape`` (C, H, W); ``layers`` (``Conv2D``, ``MaxPool2D``,
    ``AvgPool2D``, ``Flatten``, ``Dense``); ``loss`` (``"bce"``, ``"cross_entropy"``,
    ``"mse"``, ``"huber"``, or a user-defined :class:`~symcnn.losses.Loss`; a layer's
    ``activation`` may likewise be a :class:`~symcnn.activations.Activation`); ``seed`` for the initial weights and the shuffling in :meth:`fit` (an int >= 0,
    or None for fresh randomness); ``naming`` (``"symcnn"`` or ``"r"``); ``max_build_cost``:
    a network whose estimated building cost exceeds it is refused before anything is built
    (None: :data:`symcnn.graph.DEFAULT_MAX_BUILD_COST`, about half a minute; see
    :func:`symcnn.graph.check_build_budget`).

    ``inspection_cache`` (:class:`symcnn.inspect.InspectionCache`) keeps what inspecting the
    network computes once (scalar roles, the inspection evaluator, rolled layers, op counts);
    it depends on the graph only, so training never invalidates it; ``clear()`` frees it.
    """

    def __init__(self, input_shape, layers, loss="bce", seed=0, naming="symcnn", max_build_cost=None):
        self.input_shape = _check_input_shape(input_shape)
        if not isinstance(layers, (list, tuple)):
            raise TypeError(f"layers must be a list of symcnn layers, got {type(layers).__name__}")
        if not layers:
            raise ValueError("layers must be a non-empty list of symcnn layers")
        self.layers = list(layers)
        self.naming = check_scheme(naming)
        self.seed = check_int(seed, "seed", allow_none=True, minimum=0)
        bar = []  # the build's progress bar, opened once the graph knows the build's cost

        def build_progress(cost):
            if cost >= BUILD_PROGRESS_FROM:
                bar.append(ProgressBar(len(self.layers) + 1, "building", unit="layer"))
                return bar[0]
            return None

        try:
            self.graph = SymbolicGraph(self.input_shape, self.layers, loss, naming, max_build_cost, build_progress)
            self.loss_name = loss
            self.compiled = CompiledNetwork(self.graph)
            if bar:
                bar[0].update(layer="compiled")
        finally:
            if bar:
                bar[0].close()
        # every parameter lives in one flat buffer (views in PyTorch layouts); a step writes its
        # update into the spare buffer, checks it, then the two trade places
        layout = self.compiled.layout
        self._flat, self._spare = np.empty(layout.size), np.empty(layout.size)
        self._params, self._spare_params = layout.views(self._flat), layout.views(self._spare)
        for key, value in self._initial_params(np.random.default_rng(seed)).items():
            self._params[key][...] = value
        self.history: list[float] = []
        self.accuracy_history: list[float] = []
        self._unrolled = None  # UnrolledEvaluator, built on first use
        self.inspection_cache = InspectionCache()

    def _initial_params(self, rng) -> dict[str, np.ndarray]:
        params = {}
        for node in self.graph.layer_nodes:
            for kind, key in node.parameter_keys().items():
                shape = self.graph.parameter_shapes()[key]
                name = node.layer.init if kind == "weight" else node.layer.bias_init
                params[key] = initialize(name, shape, rng, node.layer.fans)
        return params

    @property
    def output_size(self) -> int:
        """Number of outputs K."""
        return len(self.graph.output_symbols)

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Copies of the parameter values, in layer order, in PyTorch layouts (changing them changes
        nothing in the network: :meth:`set_params` does)."""
        return {key: value.copy() for key, value in self._params.items()}

    def set_params(self, params) -> None:
        """Replace every parameter; keys and shapes must match :attr:`params` exactly."""
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict of arrays, got {type(params).__name__}")
        expected = self.graph.parameter_shapes()
        if set(params) != set(expected):
            missing, unknown = sorted(set(expected) - set(params)), sorted(set(params) - set(expected))
            raise ValueError(f"params keys do not match the network: missing {missing}, unknown {unknown}")
        checked = {}
        for key, shape in expected.items():
            value = _finite_float_array(params[key], f"params[{key!r}]")
            if value.shape != shape:
                raise ValueError(f"params[{key!r}] has shape {value.shape}, expected {shape}")
            checked[key] = value
        for key, value in checked.items():  # every array checked first: a refused call changes nothing
            self._params[key][...] = value

    # -- inputs -----------------------------------------------------------------------
    def as_batch(self, x) -> tuple[np.ndarray, bool]:
        """``x`` as a checked (N, C, H, W) float64 batch, and whether a single sample was given.

        >>> import numpy as np, symcnn as sc
        >>> batch, single = sc.presets.network_a().as_batch(np.zeros((1, 27, 27)))
        >>> batch.shape, single
        ((1, 1, 27, 27), True)

        Parameters: ``x`` one sample (C, H, W) or a batch (N, C, H, W) of real, finite numbers.
        """
        array = _finite_float_array(x, "x")
        single = array.ndim == 3
        if single:
            array = array[None]
        if array.size == 0:
            raise ValueError(f"x is empty (shape {array.shape}): no samples")
        if array.ndim != 4 or array.shape[1:] != self.input_shape:
            channels = (f"; it has {array.shape[1]} channel(s), the network's input {self.input_shape[0]}"
                        if array.ndim == 4 and array.shape[2:] == self.input_shape[1:] else "")
            raise ValueError(f"x must have shape {self.input_shape} for one sample or "
                             f"(N, {', '.join(map(str, self.input_shape))}) for a batch, got "
                             f"{np.shape(x)}{channels}")
        return array, single

    def as_targets(self, y, count: int) -> np.ndarray:
        """(N, K) float64 targets for ``count`` samples from what a user naturally passes.

        Cross-entropy takes integer class labels (a scalar for one image, (N,) for a batch)
        or one-hot rows; bce and mse take (K,) for one image or (N, K), and for K = 1 also a
        scalar or (N,).

        >>> import symcnn as sc
        >>> sc.presets.network_a().as_targets(1.0, 1)
        array([[1.]])

        Parameters: ``y`` labels or targets; ``count`` the number of samples they go with.
        """
        classes = self.output_size
        array = _finite_float_array(y, "y")
        is_labels = self.loss_name == "cross_entropy" and (
            (array.ndim == 0 and count == 1)
            or (array.ndim == 1 and array.shape[0] == count and (count > 1 or classes != 1)
                and not (count == 1 and array.shape[0] == classes)))
        if is_labels and array.size == 1 and array.item().is_integer() and 0 <= array.item() < classes:
            targets = np.zeros((1, classes))  # one valid label: no array arithmetic needed
            targets[0, int(array.item())] = 1.0
            return targets
        if is_labels:
            labels = array.reshape(-1)
            wrong = labels[(labels != np.round(labels)) | (labels < 0) | (labels >= classes)]
            if wrong.size:
                raise ValueError(f"y: class labels must be integers in [0, {classes}), got "
                                 f"{', '.join(f'{v:g}' for v in np.unique(wrong)[:5])}")
            return np.eye(classes)[labels.astype(int)]
        if classes == 1 and array.ndim <= 1 and array.size == count:
            array = array.reshape(count, 1)
        elif count == 1 and array.shape == (classes,):
            array = array[None]
        if array.shape != (count, classes):
            labels = f"{count} class label(s) or " if self.loss_name == "cross_entropy" else ""
            raise ValueError(f"y must match the {count} sample(s) of x: {labels}shape ({count}, {classes})"
                             f"{f' (or ({classes},))' if count == 1 else ''}, got shape {np.shape(y)}")
        if self.loss_name in ("bce", "cross_entropy") and (array.min() < 0 or array.max() > 1):
            raise ValueError(f"y: targets of the {self.loss_name} loss must lie in [0, 1]")
        # each row is a distribution over the classes: -sum_k y_k log p_k is a cross-entropy only then
        if self.loss_name == "cross_entropy" and not np.allclose(array.sum(axis=1), 1.0, rtol=0, atol=1e-6):
            raise ValueError("y: each target row of the cross_entropy loss must sum to 1 (one-hot or "
                             f"class probabilities), got row sums {np.unique(array.sum(axis=1))[:5]}")
        return array

    # -- evaluation ---------------------------------------------------------------------
    def predict(self, x) -> np.ndarray:
        """Network outputs (probabilities for sigmoid/softmax): (K,) for one image, else (N, K)."""
        batch, single = self.as_batch(x)
        outputs = self.compiled.outputs(batch, self._params)
        return outputs[0] if single else outputs

    def feature_maps(self, x) -> dict[str, np.ndarray]:
        """{layer name: output of that layer} for one image (C, H, W) or a batch (N, C, H, W).

        >>> import symcnn as sc, numpy as np
        >>> maps = sc.presets.network_a().feature_maps(np.zeros((1, 27, 27)))
        >>> {name: m.shape for name, m in maps.items()}
        {'conv1': (1, 25, 25), 'conv2': (1, 21, 21), 'conv3': (1, 15, 15), 'dense4': (1,)}
        """
        batch, single = self.as_batch(x)
        maps = self.compiled.feature_maps(batch, self._params)
        return {name: m[0] for name, m in maps.items()} if single else maps

    def loss(self, x, y) -> float:
        """The loss, averaged over a batch."""
        batch, _ = self.as_batch(x)
        return self.compiled.loss(batch, self.as_targets(y, len(batch)), self._params)

    def gradients(self, x, y) -> dict[str, np.ndarray]:
        """dLoss/dparameter for every parameter (same keys and shapes as :attr:`params`)."""
        batch, _ = self.as_batch(x)
        gradients = self.compiled.loss_and_gradients(batch, self.as_targets(y, len(batch)), self._params)[1]
        return {key: value.copy() for key, value in gradients.items()}  # out of the step's buffer

    def unrolled_gradients(self, x, y, max_terms=None) -> dict[str, np.ndarray]:
        """The same gradients from the fully unrolled per-scalar evaluator (small networks).

        ``max_terms`` bounds what is built; None means
        :data:`symcnn.graph.DEFAULT_MAX_UNROLLED_TERMS` (100,000 terms, about half a minute:
        network A fits, B does not). A bigger network is refused before anything is built,
        with the estimate and how to proceed (see :meth:`SymbolicGraph.check_unrolled_budget`).
        """
        batch, _ = self.as_batch(x)
        self.graph.check_unrolled_budget(max_terms)  # a budget is checked on every call
        if self._unrolled is None:  # the graph never changes: build (seconds) once
            self._unrolled = UnrolledEvaluator(self.graph, max_terms)
        return self._unrolled.loss_and_gradients(batch, self.as_targets(y, len(batch)), self._params)[1]

    def step(self, x, y, lr) -> float:
        """One gradient-descent step on (x, y) with learning rate ``lr``; returns the loss before it.

        A step that would leave the network broken is not taken: if the loss is not finite, or
        a new parameter array would hold NaN or infinite values or reach a norm of
        :data:`MAX_PARAMETER_NORM`, it raises ``FloatingPointError`` and the parameters stay
        as they were.

        >>> import numpy as np, symcnn as sc
        >>> net = sc.Network((1, 2, 2), [sc.Flatten(), sc.Dense(1)], loss="mse")
        >>> before = net.params
        >>> net.step(np.full((1, 2, 2), 1e100), 0.0, lr=0.1)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        FloatingPointError: step refused: it would set dense1.weight to values up to ... the parameters are unchanged...
        >>> all(np.array_equal(net.params[key], before[key]) for key in before)
        True
        """
        batch, _ = self.as_batch(x)
        return self.apply_step(batch, self.as_targets(y, len(batch)), train.check_learning_rate(lr))

    def apply_step(self, batch, targets, lr) -> float:
        """:meth:`step` on an already checked batch (:meth:`as_batch`) and targets (:meth:`as_targets`).

        What training loops call once they have checked their data; ``lr`` must be a checked
        positive float. Returns the loss before the step; refuses a step as :meth:`step` does.

        >>> import numpy as np, symcnn as sc
        >>> net = sc.Network((1, 2, 2), [sc.Flatten(), sc.Dense(1)], loss="mse")
        >>> batch, _ = net.as_batch(np.ones((1, 2, 2)))
        >>> before = net.apply_step(batch, net.as_targets(0.0, 1), 0.1)
        >>> bool(net.loss(batch, 0.0) < before)
        True
        """
        # overflow is detected below, on the results, and reported as symcnn's error
        compiled = self.compiled
        with np.errstate(over="ignore", invalid="ignore"):
            loss, gradients = compiled.loss_and_gradients(batch, targets, self._params)
            # w - lr g for every parameter at once, into the spare buffer: nothing has changed yet
            compiled.flat_update(self._spare, self._flat, compiled.flat_gradient, lr)
            # the squared norm of all parameters bounds each array's: one sum (numpy's own, not a BLAS dot,
            # which spawns threads that cost more than a small step on 2 cores); NaN and inf fail below
            total = np.einsum("i,i->", self._spare, self._spare)
        if not math.isfinite(loss):
            raise FloatingPointError(f"step refused: the loss at the current parameters is {loss} "
                                     f"(largest |x| {np.max(np.abs(batch)):.3g}); the parameters are unchanged")
        key = None
        if not total < MAX_PARAMETER_NORM ** 2:  # find the array that reaches the limit, if one does
            with np.errstate(over="ignore", invalid="ignore"):
                squared_norms = dict(zip(self._spare_params, compiled.layout.squared_norms(self._spare, np.empty_like(self._spare))))
            key = next((k for k, norm in squared_norms.items() if not norm < MAX_PARAMETER_NORM ** 2), None)
        if key is not None:
            largest = np.max(np.abs(self._spare_params[key]))
            raise FloatingPointError(
                f"step refused: it would set {key} to values up to {largest:.3g} (norm "
                f"{np.sqrt(squared_norms[key]):.3g}; learning rate {lr:g}, "
                f"largest |gradient| {np.max(np.abs(gradients[key])):.3g}, largest |x| "
                f"{np.max(np.abs(batch)):.3g}); the parameters are unchanged. Parameters of norm "
                f"{MAX_PARAMETER_NORM:.0e} or more can overflow float64 in the next pass: use a "
                "smaller learning rate or inputs of a usual size (pixels in [0, 1])")
        self._flat, self._spare = self._spare, self._flat
        self._params, self._spare_params = self._spare_params, self._params
        return loss

    def fit(self, X, Y, lr=0.1, epochs=1, batch_size=None, shuffle=True, progress=True,
            validation=None):
        """Train with (mini-batch) gradient descent; returns the loss history (one loss per step).

        ``batch_size=None`` uses the whole set per step (full-batch gradient descent), ``1`` is
        per-sample SGD. ``validation=(X_test, y_test)`` records accuracy after every epoch in
        :attr:`accuracy_history`. ``progress`` shows a progress bar on stderr.
        """
        return train.fit(self, X, Y, lr=lr, epochs=epochs, batch_size=batch_size, shuffle=shuffle,
                         progress=progress, validation=validation)

    def save(self, path) -> None:
        """Write the network (architecture, loss, seed, naming, parameters, history) to ``path`` atomically.

        >>> import os, tempfile, symcnn as sc
        >>> folder = tempfile.TemporaryDirectory()
        >>> path = os.path.join(folder.name, "a.symcnn")
        >>> sc.presets.network_a().save(path)
        >>> sc.load(path).params["dense4.weight"].shape
        (1, 225)
        >>> folder.cleanup()

        Parameters: ``path`` (str or path-like) of the file; its directory must exist.
        ``symcnn.load(path)`` reads it back bit for bit; see :mod:`symcnn.persistence`.
        """
        persistence.save(self, path)

    def accuracy(self, X, y) -> float:
        """Fraction of samples whose predicted class matches the label (argmax, or p > 0.5)."""
        outputs = self.predict(X)
        outputs = outputs[None] if outputs.ndim == 1 else outputs
        targets = self.as_targets(y, len(outputs))
        if outputs.shape[1] == 1:
            return float(np.mean((outputs[:, 0] > 0.5) == (targets[:, 0] > 0.5)))
        return float(np.mean(outputs.argmax(axis=1) == targets.argmax(axis=1)))

    # -- inspection (see symcnn.inspect) -------------------------------------------------
    def weight_symbols(self, key: str) -> np.ndarray:
        """The sympy symbols of ``params[key]``: an object array of the same shape.

        >>> import symcnn as sc
        >>> sc.presets.network_a().weight_symbols("conv1.weight")[0, 0, 1]
        array([w__1_0_0_1_0, w__1_0_0_1_1, w__1_0_0_1_2], dtype=object)
        """
        symbols = self.graph.parameter_symbols()
        if key not in symbols:
            shapes = ", ".join(f"{name} {array.shape}" for name, array in symbols.items())
            raise ValueError(f"unknown parameter {key!r}; valid keys (shapes): {shapes}")
        return symbols[key]

    def gradient_expression(self, symbol):
        """dLoss/d``symbol`` (a weight or bias) as a sympy sum over positions, in named symbols.

        >>> import symcnn as sc
        >>> net = sc.presets.network_a()
        >>> len(net.gradient_expression(net.weight_symbols("conv3.weight")[0, 0, 0, 0]).args)
        225
        """
        return chainrule.gradient_expression(self.graph, symbol)

    def evaluate(self, expression, x, y=None):
        """The value of an expression in this network's symbols at ``x``, ``y`` and the parameters.

        Inputs, weights, biases, z, a, targets and adjoint symbols dL/d(scalar) all have
        values (see :func:`symcnn.inspect.evaluate`). A string is read only as the name of
        one of the network's scalars (``"w__4_0_0"``), never as code.

        >>> import symcnn as sc, numpy as np
        >>> net = sc.presets.network_a()
        >>> w = net.weight_symbols("dense4.weight")[0, 0]
        >>> net.evaluate(2 * w, np.zeros((1, 27, 27))) == 2 * float(net.params["dense4.weight"][0, 0])
        True
        >>> net.evaluate("w__4_0_0", np.zeros((1, 27, 27))) == float(net.params["dense4.weight"][0, 0])
        True
        """
        return inspect.evaluate(self, expression, x, y)

    def ledger(self, x, y, symbol):
        """The chain-rule ledger of dLoss/d``symbol`` at one image (see :class:`symcnn.inspect.Ledger`).

        >>> import symcnn as sc, numpy as np
        >>> net = sc.presets.network_a()
        >>> entry = net.ledger(np.ones((1, 27, 27)), 1.0, net.weight_symbols("conv3.weight")[0, 0, 3, 3])
        >>> len(entry.terms), bool(np.isclose(entry.total, float(net.evaluate(entry.expression, np.ones((1, 27, 27)), 1.0))))
        (225, True)
        """
        return inspect.Ledger(self, x, y, symbol)

    def saliency(self, x, of=None, y=None, times_input=False) -> np.ndarray:
        """d``of``/dx at one image, an image-shaped array (see :func:`symcnn.inspect.saliency`).

        >>> import symcnn as sc, numpy as np
        >>> sc.presets.network_a().saliency(np.ones((1, 27, 27)), y=1.0).shape
        (1, 27, 27)
        """
        return inspect.saliency(self, x, of, y, times_input)

    def receptive_field(self, expression) -> np.ndarray:
        """Which input pixels ``expression`` depends on, a boolean image (see :func:`symcnn.inspect.receptive_field`).

        >>> import symcnn as sc
        >>> net = sc.presets.network_a()
        >>> int(net.receptive_field(net.graph.layer_nodes[0].outputs[0, 0, 0]).sum())
        9
        """
        return inspect.receptive_field(self, expression)

    def renamed(self, expression, scheme: str):
        """``expression`` with this network's scalars renamed to naming ``scheme`` (see :func:`symcnn.roles.renamed`).

        >>> import symcnn as sc
        >>> net = sc.presets.network_a()
        >>> net.renamed(net.weight_symbols("conv1.weight")[0, 0, 0, 2], "r")
        l1m1w3
        """
        return renamed(self.graph, expression, check_scheme(scheme), self.inspection_cache)

    def derivation(self, x, y, symbol):
        """dLoss/d``symbol`` derived step by step at one image, ending in its gradient
        (see :class:`symcnn.derivation.Derivation`): text in a terminal, LaTeX in Jupyter.

        >>> import symcnn as sc, numpy as np
        >>> net = sc.presets.network_a()
        >>> image = np.ones((1, 27, 27))
        >>> shown = net.derivation(image, 1.0, net.weight_symbols("conv3.weight")[0, 0, 3, 3])
        >>> bool(np.isclose(shown.total, net.gradients(image, 1.0)["conv3.weight"][0, 0, 3, 3], rtol=1e-12))
        True
        """
        return derivation.derive(self, x, y, symbol)

    def __repr__(self) -> str:
        lines = [f"Network(input {self.input_shape}, loss {self.loss_name!r}, naming {self.naming!r})"]
        for node in self.graph.nodes:
            lines.append(f"  {node.name:>8}: {node.layer.describe()} -> {node.output_shape}")
        return "\n".join(lines)


def load(path, max_build_cost=None) -> Network:
    """Read a network written by :meth:`Network.save`, exactly as it was saved (``symcnn.load``).

    >>> import os, tempfile, symcnn as sc
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "a.symcnn")
    >>> sc.presets.network_a(seed=4).save(path)
    >>> sc.load(path).seed
    4
    >>> folder.cleanup()

    Parameters: ``path`` (str or path-like); ``max_build_cost`` the budget of the network the
    file describes. What is checked and refused: :func:`symcnn.persistence.load`.
    """
    return persistence.load(path, Network, max_build_cost)
