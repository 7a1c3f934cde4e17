"""A training step compiled once per (network, batch size), and the one flat buffer parameters live in.

:class:`StepPlan` holds, for one batch size, every layer's stage (its gather indices and
buffers, made once: see :class:`symcnn.layers.base.Kernel`), so a step allocates almost
nothing: im2col is one ``np.take`` into a buffer, each contraction one matmul with ``out=``,
activations and their derived partials write into buffers (:mod:`symcnn.elementwise`).
:class:`ParameterLayout` places every parameter array in one flat buffer, so that the update
of all of them is one in-place expression and their norms one reduction.

>>> import numpy as np
>>> layout = ParameterLayout({"conv1.weight": (1, 1, 2, 2), "dense2.weight": (1, 3)})
>>> flat = np.arange(7.0)
>>> layout.views(flat)["dense2.weight"]
array([[4., 5., 6.]])
>>> layout.squared_norms(flat, np.empty(7)).tolist()
[14.0, 77.0]
"""

from __future__ import annotations

import numpy as np


class ParameterLayout:
    """Where each parameter array sits in one flat float64 buffer (in the order of ``shapes``).

    Parameters: ``shapes`` {key: shape}.
    """

    def __init__(self, shapes: dict):
        self.shapes = dict(shapes)
        sizes = [int(np.prod(shape)) for shape in self.shapes.values()]
        self.starts = np.cumsum([0] + sizes[:-1]).astype(np.intp)
        self.size = int(sum(sizes))
        self.slices = {key: slice(int(start), int(start) + size)
                       for key, start, size in zip(self.shapes, self.starts, sizes)}

    def views(self, flat: np.ndarray) -> dict:
        """{key: the view of ``flat`` holding that parameter, in its shape}."""
        return {key: flat[where].reshape(self.shapes[key]) for key, where in self.slices.items()}

    def squared_norms(self, flat: np.ndarray, scratch: np.ndarray) -> np.ndarray:
        """Each parameter's squared Euclidean norm (in key order), squaring into ``scratch``."""
        if not self.size:
            return np.zeros(0)
        np.multiply(flat, flat, out=scratch)
        return np.add.reduceat(scratch, self.starts)


def copied(value):
    """``value`` with every array in it (nested in tuples, lists and dicts) copied: out of a plan's buffers."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple):
        return tuple(copied(v) for v in value)
    if isinstance(value, list):
        return [copied(v) for v in value]
    if isinstance(value, dict):
        return {k: copied(v) for k, v in value.items()}
    return value


class StepPlan:
    """The forward pass of one batch size through every layer's stage, in reused buffers.

    Parameters: ``kernels`` (the layers' :class:`~symcnn.layers.base.Kernel` objects, with their
    activations set), ``batch`` (the number of samples). The backward pass is
    :func:`symcnn.chainrule.backpropagate` over :attr:`stages` and the caches :meth:`forward` returns.
    """

    def __init__(self, kernels, batch: int):
        self.batch = batch
        self.stages = [kernel.new_stage(batch) for kernel in kernels]

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays the plan owns (its buffers and indices; views not counted twice)."""
        owned = [value for stage in self.stages for part in (stage, stage.activation) if part is not None
                 for value in vars(part).values() if isinstance(value, np.ndarray) and value.base is None]
        return sum(array.nbytes for array in owned)

    def forward(self, x, params):
        """(the last layer's logits (N, K), every layer's (cache, z, a)); arrays in the stages' buffers."""
        activations = x.transpose(0, 2, 3, 1)  # channels-last maps
        caches = []
        for stage in self.stages[:-1]:
            z, cache = stage.forward(activations, params)
            activations = z if stage.activation is None else stage.activation.forward(z)
            caches.append((cache, z, activations))
        z, cache = self.stages[-1].forward(activations, params)
        caches.append((cache, z, None))  # the last activation is joined with the loss
        if z.ndim == 4:  # a conv map's logits, flattened in PyTorch's (f, h, w) order
            z = z.transpose(0, 3, 1, 2)
        return z.reshape(x.shape[0], -1), caches
