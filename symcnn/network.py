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

import numbers

import numpy as np

from . import train
from .evaluate import CompiledNetwork, UnrolledEvaluator
from .graph import SymbolicGraph
from .initializers import initialize
from .naming import check_scheme


def _check_input_shape(input_shape) -> tuple[int, int, int]:
    if (not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3
            or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in input_shape)):
        raise TypeError(f"input_shape must be a (channels, height, width) tuple of ints, got {input_shape!r}")
    if any(n < 1 for n in input_shape):
        raise ValueError(f"input_shape must be positive, got {tuple(input_shape)}")
    return tuple(int(n) for n in input_shape)


def _finite_float_array(value, argument: str) -> np.ndarray:
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{argument} must be numbers (an array), got {type(value).__name__}")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{argument} must be numbers (an array): {error}") from None
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{argument} contains NaN or infinite values")
    return array


class Network:
    """A CNN whose every scalar is a named sympy symbol, compiled for fast evaluation.

    Parameters: ``input_shape`` (C, H, W); ``layers`` (``Conv2D``, ``MaxPool2D``,
    ``AvgPool2D``, ``Flatten``, ``Dense``); ``loss`` (``"bce"``, ``"cross_entropy"``,
    ``"mse"``); ``seed`` for the initial weights; ``naming`` (``"symcnn"`` or ``"r"``).
    """

    def __init__(self, input_shape, layers, loss="bce", seed=0, naming="symcnn"):
        self.input_shape = _check_input_shape(input_shape)
        if not isinstance(layers, (list, tuple)) or not layers:
            raise ValueError("layers must be a non-empty list of symcnn layers")
        self.layers = list(layers)
        self.naming = check_scheme(naming)
        self.seed = seed
        self.graph = SymbolicGraph(self.input_shape, self.layers, loss, naming)
        self.loss_name = loss
        self.compiled = CompiledNetwork(self.graph)
        self._params = self._initial_params(np.random.default_rng(seed))
        self.history: list[float] = []

    def _initial_params(self, rng) -> dict[str, np.ndarray]:
        params = {}
        for node in self.graph.layer_nodes:
            for kind, key in node.parameter_keys().items():
                shape = self.graph.parameter_shapes()[key]
                name = node.layer.init if kind == "weight" else node.layer.bias_init
                params[key] = initialize(name, shape, rng, node.layer.kind)
        return params

    @property
    def output_size(self) -> int:
        """Number of outputs K."""
        return len(self.graph.output_symbols)

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Copies of the parameter values, in layer order, in PyTorch layouts."""
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
            checked[key] = value.copy()
        self._params = checked

    # -- inputs -----------------------------------------------------------------------
    def _batch(self, x) -> tuple[np.ndarray, bool]:
        """(N, C, H, W) float64 array and whether a single sample was given."""
        array = _finite_float_array(x, "x")
        single = array.ndim == 3
        if single:
            array = array[None]
        if array.ndim != 4 or array.shape[1:] != self.input_shape:
            raise ValueError(f"x must have shape {self.input_shape} or (N, *{self.input_shape}), "
                             f"got {array.shape}")
        if array.shape[0] == 0:
            raise ValueError("x is an empty batch")
        return array, single

    def _targets(self, y, count: int) -> np.ndarray:
        """(N, K) float64 targets from what a user naturally passes.

        Cross-entropy takes integer class labels (a scalar for one image, (N,) for a batch)
        or one-hot rows; bce and mse take (K,) for one image or (N, K), and for K = 1 also a
        scalar or (N,).
        """
        classes = self.output_size
        array = _finite_float_array(y, "y")
        is_labels = self.loss_name == "cross_entropy" and (
            array.ndim == 0 or (array.ndim == 1 and array.shape[0] == count and (count > 1 or classes != 1)
                                and not (count == 1 and array.shape[0] == classes)))
        if is_labels:
            labels = array.reshape(-1)
            if np.any(labels != np.round(labels)) or np.any(labels < 0) or np.any(labels >= classes):
                raise ValueError(f"y: class labels must be integers in [0, {classes}), got {labels}")
            return np.eye(classes)[labels.astype(int)]
        if classes == 1 and array.ndim <= 1 and array.size == count:
            array = array.reshape(count, 1)
        elif count == 1 and array.shape == (classes,):
            array = array[None]
        if array.shape != (count, classes):
            raise ValueError(f"y must have shape ({count}, {classes}) (or ({classes},) for one sample), "
                             f"got {np.shape(y)}")
        if self.loss_name in ("bce", "cross_entropy") and (np.any(array < 0) or np.any(array > 1)):
            raise ValueError(f"y: targets of the {self.loss_name} loss must lie in [0, 1]")
        return array

    # -- evaluation ---------------------------------------------------------------------
    def predict(self, x) -> np.ndarray:
        """Network outputs (probabilities for sigmoid/softmax): (K,) for one image, else (N, K)."""
        batch, single = self._batch(x)
        outputs = self.compiled.outputs(batch, self._params)
        return outputs[0] if single else outputs

    def feature_maps(self, x) -> dict[str, np.ndarray]:
        """{layer name: output of that layer} for one image (C, H, W) or a batch (N, C, H, W).

        >>> import symcnn as sc, numpy as np
        >>> maps = sc.presets.network_a().feature_maps(np.zeros((1, 27, 27)))
        >>> {name: m.shape for name, m in maps.items()}
        {'conv1': (1, 25, 25), 'conv2': (1, 21, 21), 'conv3': (1, 15, 15), 'dense4': (1,)}
        """
        batch, single = self._batch(x)
        maps = self.compiled.feature_maps(batch, self._params)
        return {name: m[0] for name, m in maps.items()} if single else maps

    def loss(self, x, y) -> float:
        """The loss, averaged over a batch."""
        batch, _ = self._batch(x)
        return self.compiled.loss(batch, self._targets(y, len(batch)), self._params)

    def gradients(self, x, y) -> dict[str, np.ndarray]:
        """dLoss/dparameter for every parameter (same keys and shapes as :attr:`params`)."""
        batch, _ = self._batch(x)
        return self.compiled.loss_and_gradients(batch, self._targets(y, len(batch)), self._params)[1]

    def unrolled_gradients(self, x, y, max_terms=None) -> dict[str, np.ndarray]:
        """The same gradients from the fully unrolled per-scalar evaluator (small networks)."""
        batch, _ = self._batch(x)
        evaluator = UnrolledEvaluator(self.graph, max_terms)
        return evaluator.loss_and_gradients(batch, self._targets(y, len(batch)), self._params)[1]

    def step(self, x, y, lr) -> float:
        """One gradient-descent step on (x, y) with learning rate ``lr``; returns the loss before it."""
        batch, _ = self._batch(x)
        return self._step(batch, self._targets(y, len(batch)), train.check_learning_rate(lr))

    def _step(self, batch, targets, lr) -> float:
        loss, gradients = self.compiled.loss_and_gradients(batch, targets, self._params)
        self._params = self.compiled.apply_update(self._params, gradients, lr)
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

    def accuracy(self, X, y) -> float:
        """Fraction of samples whose predicted class matches the label (argmax, or p > 0.5)."""
        outputs = self.predict(X)
        outputs = outputs[None] if outputs.ndim == 1 else outputs
        targets = self._targets(y, len(outputs))
        if outputs.shape[1] == 1:
            return float(np.mean((outputs[:, 0] > 0.5) == (targets[:, 0] > 0.5)))
        return float(np.mean(outputs.argmax(axis=1) == targets.argmax(axis=1)))

    def __repr__(self) -> str:
        lines = [f"Network(input {self.input_shape}, loss {self.loss_name!r}, naming {self.naming!r})"]
        for node in self.graph.nodes:
            lines.append(f"  {node.name:>8}: {node.layer.describe()} -> {node.output_shape}")
        return "\n".join(lines)
