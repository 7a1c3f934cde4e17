"""Training loops: per-sample SGD, mini-batch SGD and full-batch gradient descent.

>>> import numpy as np
>>> import symcnn as sc
>>> net = sc.Network((1, 5, 5), [sc.Conv2D(2, 3, activation="relu"), sc.Flatten(),
...                              sc.Dense(2, activation="softmax")], loss="cross_entropy", seed=0)
>>> rng = np.random.default_rng(0)
>>> X, y = rng.random((8, 1, 5, 5)), np.array([0, 1] * 4)
>>> history = net.fit(X, y, lr=0.1, epochs=2, batch_size=4, progress=False)
>>> len(history)  # 2 epochs x 2 mini-batches
4
"""

from __future__ import annotations

import numbers

import numpy as np

from .checks import check_bool, check_int
from .display import ProgressBar


def check_learning_rate(lr) -> float:
    """Return ``lr`` as a float if it is a finite positive number, else raise."""
    if not isinstance(lr, numbers.Real) or isinstance(lr, bool):
        raise TypeError(f"lr must be a number, got {type(lr).__name__}")
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a finite positive number, got {lr}")
    return float(lr)


def _check_validation(net, validation) -> None:
    """Check ``validation`` = (X_test, y_test) before training, not after the first epoch."""
    if validation is None:
        return
    if not isinstance(validation, (tuple, list)) or len(validation) != 2:
        raise TypeError(f"validation must be a pair (X_test, y_test), got {type(validation).__name__}"
                        f"{f' of length {len(validation)}' if isinstance(validation, (tuple, list)) else ''}")
    try:
        test_batch, _ = net.as_batch(validation[0])
        net.as_targets(validation[1], len(test_batch))
    except (TypeError, ValueError) as error:
        raise type(error)(f"validation: {error}") from None


def fit(net, X, Y, lr=0.1, epochs=1, batch_size=None, shuffle=True, progress=True, validation=None):
    """Train ``net`` in place and return its loss per step (also appended to ``net.history``).

    Each step averages the gradient over its batch. ``shuffle`` draws a new order every
    epoch from a generator seeded with the network's seed, so runs repeat exactly.
    A step that would break the network (see :meth:`Network.step`) stops the fit with
    ``FloatingPointError``: the steps before it stay applied and recorded in ``net.history``,
    the refused one changes nothing. ``shuffle`` and ``progress`` are True or False.
    """
    lr = check_learning_rate(lr)
    epochs = check_int(epochs, "epochs")
    batch_size = check_int(batch_size, "batch_size", allow_none=True)
    shuffle, progress = check_bool(shuffle, "shuffle"), check_bool(progress, "progress")
    batch, _ = net.as_batch(X)
    targets = net.as_targets(Y, len(batch))
    _check_validation(net, validation)
    count = len(batch)
    batch_size = count if batch_size is None else min(batch_size, count)
    steps_per_epoch = -(-count // batch_size)
    # shuffling continues where earlier training stopped: the same seed and history give
    # the same order (also after save/load), and a second fit does not repeat the first
    rng = np.random.default_rng(None if net.seed is None else (net.seed, len(net.history)))
    losses = []
    with ProgressBar(epochs * steps_per_epoch, "training", enabled=progress) as bar:
        for _ in range(epochs):
            order = rng.permutation(count) if shuffle else np.arange(count)
            for start in range(0, count, batch_size):
                chosen = order[start:start + batch_size]
                try:
                    loss = net.apply_step(batch[chosen], targets[chosen], lr)
                except FloatingPointError as error:
                    raise FloatingPointError(f"fit stopped at step {len(losses) + 1}: {error}; the "
                                             f"{len(losses)} step(s) before it were applied and are in "
                                             "net.history") from None
                losses.append(loss)
                net.history.append(loss)  # step by step, so an error or Ctrl-C leaves it matching the parameters
                bar.update(loss=loss)
            if validation is not None:
                net.accuracy_history.append(net.accuracy(*validation))
    return losses
