"""Losses, written two ways: in the output probabilities (to read) and in the logits (to run).

The readable form is the textbook one, e.g. -(y log p + (1 - y) log(1 - p)). The logit form
joins the last layer's activation with the loss so that it stays finite for any logit:
log sigma(z) is ``LogSigmoid(z)``, log softmax_k(z) is z_k - LogSumExp(z). Both are the
same function (a test checks it); the evaluator runs the logit form.

>>> import sympy
>>> z, y = sympy.symbols("z y")
>>> loss_of_logits("bce", "sigmoid", [z], [y])
-y*LogSigmoid(z) + (y - 1)*LogSigmoid(-z)
>>> p = sympy.Symbol("p")
>>> loss_of_probabilities("bce", [p], [y])
-y*log(p) - (1 - y)*log(1 - p)
"""

from __future__ import annotations

import sympy

from .functions import LogSigmoid, LogSumExp
from .layers import ACTIVATIONS

LOSSES = ("bce", "cross_entropy", "mse")

#: Which last-layer activations each loss accepts.
COMPATIBLE_ACTIVATIONS = {
    "bce": ("sigmoid", "softmax"),
    "cross_entropy": ("softmax",),
    "mse": (None, "identity", "sigmoid", "relu", "tanh", "softmax"),
}


def check_loss(loss: str, activation) -> str:
    """Return ``loss`` if it is known and fits the last layer's ``activation``.

    >>> check_loss("cross_entropy", "softmax")
    'cross_entropy'
    """
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; expected one of {LOSSES}")
    if activation not in COMPATIBLE_ACTIVATIONS[loss]:
        raise ValueError(f"loss {loss!r} needs the last layer's activation to be one of "
                         f"{COMPATIBLE_ACTIVATIONS[loss]}, got {activation!r}")
    return loss


def loss_of_probabilities(loss: str, outputs, targets) -> sympy.Expr:
    """The loss of one sample in the network's outputs p_k and targets y_k (readable form).

    bce: -sum_k (y_k log p_k + (1 - y_k) log(1 - p_k)) (summed over outputs);
    cross_entropy: -sum_k y_k log p_k; mse: mean_k (p_k - y_k)^2.
    """
    pairs = list(zip(outputs, targets))
    if loss == "bce":
        return sympy.Add(*[-y * sympy.log(p) - (1 - y) * sympy.log(1 - p) for p, y in pairs])
    if loss == "cross_entropy":
        return sympy.Add(*[-y * sympy.log(p) for p, y in pairs])
    return sympy.Add(*[(p - y) ** 2 for p, y in pairs]) / len(pairs)


def output_probabilities(activation, logits) -> list:
    """The last layer's outputs as expressions of its logits (softmax included)."""
    if activation == "softmax":
        normaliser = LogSumExp(*logits)
        return [sympy.exp(z - normaliser) for z in logits]
    return [ACTIVATIONS[activation](z) for z in logits]


def _log_output(activation, logits, k):
    """log p_k, written so that it is finite for any logits."""
    if activation == "sigmoid":
        return LogSigmoid(logits[k])
    return logits[k] - LogSumExp(*logits)


def _log_one_minus_output(activation, logits, k):
    """log(1 - p_k), written so that it is finite for any logits."""
    if activation == "sigmoid":
        return LogSigmoid(-logits[k])
    if len(logits) < 2:
        raise ValueError("bce after a softmax needs at least two outputs (1 - p is 0 for one)")
    others = [z for j, z in enumerate(logits) if j != k]
    return LogSumExp(*others) - LogSumExp(*logits)


def loss_of_logits(loss: str, activation, logits, targets) -> sympy.Expr:
    """The same loss as :func:`loss_of_probabilities`, in the last layer's logits z_k."""
    check_loss(loss, activation)
    if loss == "mse":
        return loss_of_probabilities("mse", output_probabilities(activation, logits), targets)
    terms = []
    for k, y in enumerate(targets):
        terms.append(-y * _log_output(activation, logits, k))
        if loss == "bce":
            terms.append(-(1 - y) * _log_one_minus_output(activation, logits, k))
    return sympy.Add(*terms)
