"""Losses, written two ways: in the output probabilities (to read) and in the logits (to run).

The readable form is the textbook one, e.g. -(y log p + (1 - y) log(1 - p)). The logit form
joins the last layer's activation with the loss so that it stays finite for any logit:
log sigma(z) is ``LogSigmoid(z)``, log softmax_k(z) is z_k - LogSumExp(z). Both are the
same function (a test checks it); the evaluator runs the logit form.

A :class:`Loss` (user-defined, or the built-in ``huber``) has only the readable form: the
loss f(p, t) of one output, summed over the outputs and averaged over the batch. It is
evaluated on the last layer's outputs p_k = activation(z_k) as float64 computes them, so it
is exactly as stable as its formula there: log(p) of a sigmoid output that has rounded to
0 (a logit below about -745) is -inf. A loss that needs the stable logit form can be
written in the logits instead: give the last layer no activation and apply it inside f,
e.g. ``lambda z, t: -t * sc.log_sigmoid(z) - (1 - t) * sc.log_sigmoid(-z)``.

>>> import sympy
>>> z, y = sympy.symbols("z y")
>>> loss_of_logits("bce", "sigmoid", [z], [y])
-y*LogSigmoid(z) - (1 - y)*LogSigmoid(-z)
>>> p = sympy.Symbol("p")
>>> loss_of_probabilities("bce", [p], [y])
-y*log(p) - (1 - y)*log(1 - p)
"""

from __future__ import annotations

import sympy

from .activations import ACTIVATIONS, Activation, NamedDefinition, activation_function, exact_number, is_elementwise
from .functions import LogSigmoid, ReLU

#: The two arguments of every loss's definition: a prediction p and its target t.
P, T = sympy.Symbol("p", real=True), sympy.Symbol("t", real=True)
#: What one output's loss is written in, besides p and t (see :func:`output_loss`): its logit z_k,
#: and after a softmax log p_k and log(1 - p_k), which the softmax computes finite for any logits.
LOGIT, LOG_P, LOG_Q = sympy.Symbol("z", real=True), sympy.Symbol("log_p", real=True), sympy.Symbol("log_q", real=True)


class Loss(NamedDefinition):
    """A loss f(p, t) of one output, summed over the outputs and averaged over the batch.

    >>> squared_log = Loss("squared_log", lambda p, t: (sympy.log(1 + p) - sympy.log(1 + t)) ** 2)
    >>> squared_log
    Loss('squared_log', (log(p + 1) - log(t + 1))**2)
    >>> squared_log.derivative
    2*(log(p + 1) - log(t + 1))/(p + 1)

    Parameters: ``name``, an identifier; ``f``, a function taking the sympy symbols p
    (prediction) and t (target) and returning a sympy expression in them (see
    :class:`~symcnn.activations.Activation` for what it may use); ``latex``, the name in
    LaTeX (default ``\\operatorname{name}``). Usable as ``Network(..., loss=loss)`` after any
    last activation; see the module docstring for what that means for stability.
    """

    kind = "Loss"
    variables = (P, T)


def huber(delta=1.0) -> Loss:
    """The Huber loss of one output: (p - t)^2 / 2 where |p - t| <= delta, delta (|p - t| - delta/2) beyond.

    As ``torch.nn.functional.huber_loss(p, t, delta=delta, reduction="sum")`` divided by
    the batch size (symcnn sums over the outputs and averages over the batch; PyTorch's
    default ``reduction="mean"`` also averages over the outputs). Written with the
    difference d = p - t clipped to [-delta, delta], c = d - ReLU(d - delta) + ReLU(-d - delta),
    as c (d - c/2): no cancellation between large squares. Its derivative d f/d p is the
    clipped c itself, continuous; at |d| = delta it is +-delta, as in PyTorch.

    >>> [huber().expression.subs({P: p, T: 0}) for p in (3, sympy.Rational(1, 2), -3)]
    [5/2, 1/8, 5/2]
    """
    if not isinstance(delta, (int, float)) or isinstance(delta, bool) or not 0 < delta < float("inf"):
        raise ValueError(f"huber: delta must be a positive finite number, got {delta!r}")
    bound = exact_number(delta, "delta", "huber")

    def definition(p, t):
        difference = p - t
        clipped = difference - ReLU(difference - bound) + ReLU(-difference - bound)
        return clipped * (difference - clipped / 2)

    latex = r"\operatorname{Huber}" + ("" if delta == 1 else "_{%s}" % sympy.latex(bound))
    return Loss("huber", definition, latex)


LOSSES = ("bce", "cross_entropy", "mse", "huber")
#: Built-in losses defined as a :class:`Loss` (readable form only), by name.
DEFINED_LOSSES = {"huber": huber()}

#: Which last-layer activations each built-in loss accepts (mse and huber also take any
#: :class:`~symcnn.activations.Activation`; a :class:`Loss` takes every activation).
COMPATIBLE_ACTIVATIONS = {
    "bce": ("sigmoid", "softmax"),
    "cross_entropy": ("softmax",),
    "mse": tuple(ACTIVATIONS),
    "huber": tuple(ACTIVATIONS),
}


def check_loss(loss, activation):
    """Return ``loss`` if it is a built-in name or a :class:`Loss` and fits the last layer's ``activation``.

    >>> check_loss("cross_entropy", "softmax")
    'cross_entropy'
    """
    if isinstance(loss, Loss):
        return loss
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; expected one of {LOSSES}, or a symcnn.Loss")
    takes_any = COMPATIBLE_ACTIVATIONS[loss] == COMPATIBLE_ACTIVATIONS["mse"]
    if not (activation in COMPATIBLE_ACTIVATIONS[loss] or (takes_any and isinstance(activation, Activation))):
        raise ValueError(f"loss {loss!r} needs the last layer's activation to be one of "
                         f"{COMPATIBLE_ACTIVATIONS[loss]}, got {activation!r}")
    return loss


def _defined(loss):
    """The :class:`Loss` behind ``loss``, or None for bce, cross-entropy and mse."""
    return loss if isinstance(loss, Loss) else DEFINED_LOSSES.get(loss)


def loss_of_probabilities(loss: str, outputs, targets) -> sympy.Expr:
    """The loss of one sample in the network's outputs p_k and targets y_k (readable form).

    bce: -sum_k (y_k log p_k + (1 - y_k) log(1 - p_k)) (summed over outputs);
    cross_entropy: -sum_k y_k log p_k; mse: mean_k (p_k - y_k)^2; a :class:`Loss` f:
    sum_k f(p_k, y_k).
    """
    pairs = list(zip(outputs, targets))
    if _defined(loss) is not None:
        return sympy.Add(*[_defined(loss)(p, y) for p, y in pairs])
    if loss == "bce":
        return sympy.Add(*[-y * sympy.log(p) - (1 - y) * sympy.log(1 - p) for p, y in pairs])
    if loss == "cross_entropy":
        return sympy.Add(*[-y * sympy.log(p) for p, y in pairs])
    return sympy.Add(*[(p - y) ** 2 for p, y in pairs]) / len(pairs)


def output_probabilities(activation, logits) -> list:
    """The last layer's outputs as expressions of its logits (softmax included)."""
    function = activation_function(activation)
    if not is_elementwise(activation):
        return function.outputs(logits)
    return [function(z) for z in logits]


def output_loss(loss, activation, count: int) -> sympy.Expr:
    """The loss contributed by one of ``count`` outputs, finite for any logit: what the evaluator runs.

    Written in :data:`LOGIT` and :data:`T` after an elementwise activation, and in
    :data:`LOG_P`, :data:`LOG_Q`, :data:`P` and :data:`T` after a softmax (which supplies
    log p_k = z_k - LogSumExp(z) and log(1 - p_k) without rounding p_k first). Summed over
    the outputs it is :func:`loss_of_logits`.

    >>> output_loss("bce", "sigmoid", 1)
    -t*LogSigmoid(z) - (1 - t)*LogSigmoid(-z)
    >>> output_loss("cross_entropy", "softmax", 10), output_loss("bce", "softmax", 10)
    (-log_p*t, -log_p*t - log_q*(1 - t))
    """
    check_loss(loss, activation)
    softmax = not is_elementwise(activation)
    if softmax and loss == "bce" and count < 2:
        raise ValueError("bce after a softmax needs at least two outputs (1 - p is 0 for one)")
    prediction = P if softmax else activation_function(activation)(LOGIT)
    if _defined(loss) is not None:
        return _defined(loss)(prediction, T)
    if loss == "mse":
        return (prediction - T) ** 2 / count
    log_p, log_q = (LOG_P, LOG_Q) if softmax else (LogSigmoid(LOGIT), LogSigmoid(-LOGIT))
    if loss == "cross_entropy":
        return -T * log_p
    return -T * log_p - (1 - T) * log_q


def loss_of_logits(loss: str, activation, logits, targets) -> sympy.Expr:
    """The same loss as :func:`loss_of_probabilities`, in the last layer's logits z_k: :func:`output_loss` summed."""
    template = output_loss(loss, activation, len(logits))
    if is_elementwise(activation):
        return sympy.Add(*[template.xreplace({LOGIT: logit, T: target}) for logit, target in zip(logits, targets)])
    softmax = activation_function(activation)
    outputs = softmax.outputs(logits) if template.has(P) else None  # all K outputs at once
    terms = []
    for k, target in enumerate(targets):
        mapping = {T: target}
        if outputs is not None:
            mapping[P] = outputs[k]
        if template.has(LOG_P):
            mapping[LOG_P] = softmax.log_output(logits, k)
        if template.has(LOG_Q):
            mapping[LOG_Q] = softmax.log_complement(logits, k)
        terms.append(template.xreplace(mapping))
    return sympy.Add(*terms)
