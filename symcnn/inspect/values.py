"""The value of any expression in a network's named scalars: every z, a and dL/d(scalar) at an input.

Numbers come from the fast evaluator: its forward caches give every z and a, and the
gradients it passes back give every dL/da, dL/dz and dL/dx
(:meth:`symcnn.evaluate.CompiledNetwork.trace`).

>>> import numpy as np, symcnn as sc
>>> net = sc.presets.network_a()
>>> w = net.weight_symbols("dense4.weight")[0, 0]
>>> evaluate(net, 3 * w, np.zeros((1, 27, 27))) == 3 * float(net.params["dense4.weight"][0, 0])
True
"""

from __future__ import annotations

import numpy as np

from ..checks import as_expression
from ..evaluate import CompiledNetwork, ReadableOutputAdjoints, compile_expressions
from ..naming import NamedScalar, parse_name
from ..roles import find_role, numbered_layers, previous_layer, role_of


def inspection_evaluator(net):
    """A compiled network that also passes gradients back to the pixels, and the readable
    dL/da of the network's outputs (what the adjoint symbols of the last layer stand for).

    Built once per network and kept in ``net.inspection_cache``.

    >>> import symcnn as sc
    >>> compiled, output_adjoints = inspection_evaluator(sc.presets.network_a())
    >>> len(compiled.layers)
    5
    """
    return net.inspection_cache.get("evaluator", lambda: (CompiledNetwork(net.graph, input_gradient=True),
                                                          ReadableOutputAdjoints(net.graph)))


def torch_layout(array):
    """Channels-last maps (N, H, W, C) of the fast path -> PyTorch's (N, C, H, W); other arrays unchanged.

    >>> import numpy as np
    >>> torch_layout(np.zeros((2, 5, 5, 3))).shape
    (2, 3, 5, 5)
    """
    return array.transpose(0, 3, 1, 2) if array is not None and array.ndim == 4 else array


class Trace:
    """Every named scalar's value at a batch and the current parameters, from the fast path.

    Each sample's values are those of its own loss (for one sample, what ``net.gradients``
    computes). Parameters: ``net``; ``x`` (one image or a batch); ``y`` (labels or targets:
    needed only for targets, the loss and adjoint symbols).

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> trace = Trace(net, np.zeros((1, 27, 27)), 1.0)
    >>> trace.value(net.graph.loss_symbol).shape
    (1,)
    """

    def __init__(self, net, x, y=None):
        batch, self.single = net.as_batch(x)
        self.net, self.graph, self.inputs, self.params = net, net.graph, batch, net.params
        self.targets = None if y is None else net.as_targets(y, len(batch))
        targets = self.targets if y is not None else np.zeros((len(batch), net.output_size))
        compiled, output_adjoints = inspection_evaluator(net)
        logits, self.caches, adjoints = compiled.trace(batch, targets, self.params)
        last = len(self.graph.nodes) - 1
        self.maps = {}
        for i, node in numbered_layers(self.graph):
            shape = (len(batch), *node.output_shape)
            _, z, a = self.caches[i]
            if i == last:  # the head joins the last activation with the loss
                outputs = compiled.head.outputs(logits)
                upstream = output_adjoints(list(outputs.T), list(targets.T))
                self.maps["pre_activation", i] = logits.reshape(shape)
                self.maps["activation", i] = outputs.reshape(shape)
                self.maps["adjoint_activation", i] = np.stack(
                    np.broadcast_arrays(*upstream), axis=1).reshape(shape)
            else:
                self.maps["pre_activation", i] = torch_layout(z)
                self.maps["activation", i] = torch_layout(a)
                self.maps["adjoint_activation", i] = torch_layout(adjoints[i]["a"])
            self.maps["adjoint_pre_activation", i] = torch_layout(adjoints[i]["z"]).reshape(shape)
        self.input_gradient = torch_layout(adjoints["input"])
        self.losses = compiled.head.loss_per_sample(logits, targets)
        self._parameter_gradients = None

    def _needs_targets(self, symbol):
        if self.targets is None:
            raise ValueError(f"the value of {symbol} needs the label y")

    def parameter_gradients(self) -> dict:
        """{key: (N, *shape)}: dL/dparameter of each sample's own loss."""
        self._needs_targets("a parameter's adjoint")
        if self._parameter_gradients is None:
            per_sample = [self.net.compiled.loss_and_gradients(self.inputs[n:n + 1], self.targets[n:n + 1],
                                                                self.params)[1]
                          for n in range(len(self.inputs))]
            self._parameter_gradients = {key: np.stack([g[key] for g in per_sample]) for key in self.params}
        return self._parameter_gradients

    def layer_input(self, index: int) -> np.ndarray:
        """The values node ``index`` reads, (N, *its input shape)."""
        previous = previous_layer(self.graph, index)
        values = self.inputs if previous is None else self.maps["activation", previous]
        return values.reshape(len(self.inputs), *self.graph.nodes[index].input_shape)

    def value(self, symbol) -> np.ndarray:
        """(N,) values of one named scalar or adjoint symbol."""
        role = role_of(self.graph, symbol, self.net.inspection_cache)
        count = len(self.inputs)
        at = (slice(None), *role.index)
        if role.adjoint or role.kind in ("target", "loss"):
            self._needs_targets(symbol)
        if role.adjoint:
            if role.kind == "loss":
                return np.ones(count)
            if role.kind == "input":
                return self.input_gradient[at]
            if role.kind in ("weight", "bias"):
                return self.parameter_gradients()[role.key][at]
            if role.kind == "target":
                raise ValueError(f"{symbol}: the loss is not differentiated by its targets here")
            return self.maps["adjoint_" + role.kind, role.node][at]
        if role.kind == "input":
            return self.inputs[at]
        if role.kind in ("weight", "bias"):
            return np.full(count, self.params[role.key][role.index])
        if role.kind == "target":
            return self.targets[at]
        if role.kind == "loss":
            return np.asarray(self.losses, dtype=float)
        return self.maps[role.kind, role.node][at]

    def evaluate(self, expression):
        """Values of an expression (or an array of them) in named scalars; see :func:`evaluate`."""
        container = np.empty(np.shape(expression), dtype=object)
        if container.ndim == 0:
            container[()] = expression
        else:
            container[...] = expression
        expressions = [_expression_or_name(self.net, e) for e in container.flat]
        symbols = sorted(set().union(*(e.free_symbols for e in expressions)), key=lambda s: s.name)
        function = compile_expressions([symbols], expressions)
        count = len(self.inputs)
        results = function([self.value(s) for s in symbols])
        values = np.stack([np.broadcast_to(np.asarray(r, dtype=float), (count,)) for r in results], axis=1)
        values = values.reshape(count, *container.shape)
        if self.single:
            values = values[0]
            return float(values) if values.ndim == 0 else values
        return values


def _expression_or_name(net, value):
    """A sympy expression, or the named scalar a string names: parsed by symcnn.naming, never evaluated."""
    if not isinstance(value, str):
        return as_expression(value)
    try:
        parse_name(value)
    except ValueError:
        raise ValueError(f"expression {value!r} is not a symbol name: a string may only name one of the "
                         "network's scalars, e.g. 'w__1_0_0_0_0' (symcnn never evaluates text as code; "
                         "build expressions from net.weight_symbols(...) and net.graph's symbols)") from None
    symbol = NamedScalar(value)
    if find_role(net.graph, symbol) is None:
        raise ValueError(f"{value!r} is a symbol name but not a named scalar of this network")
    return symbol


def evaluate(net, expression, x, y=None):
    """The value of any expression in the network's named scalars at ``x``, ``y`` and the parameters.

    Inputs, weights, biases, z, a, targets, the loss and adjoint symbols dL/d(scalar)
    (:func:`symcnn.naming.adjoint_symbol`) all have values. Returns a float for one image
    and one expression, an array for a batch (first axis) or an array of expressions.

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_a()
    >>> a = net.graph.layer_nodes[0].outputs[0, 0, 0]
    >>> round(evaluate(net, a * (1 - a), np.zeros((1, 27, 27))), 6)
    0.25

    Parameters: ``net``; ``expression`` (sympy expression or array-like of them; a string
    only as the name of one of the network's scalars, e.g. ``"a__1_0_0_0"``, never parsed
    as code); ``x``; ``y``.
    """
    return Trace(net, x, y).evaluate(expression)
