"""PyTorch (float64) rebuilds of symcnn networks: the independent reference for tests and benchmarks.

The network is rebuilt layer by layer from its description with ``torch.nn.functional``,
sharing nothing with symcnn's evaluator. Built-in activations and losses map to PyTorch's own
functions; a user-defined :class:`~symcnn.activations.Activation` or
:class:`~symcnn.losses.Loss` maps to a torch function the caller supplies in ``functions``
(written again in torch, never derived from symcnn's expression). Needs the optional
dependency torch.

>>> import symcnn as sc, numpy as np
>>> net = sc.presets.network_a()
>>> loss, gradients = torch_reference(net, np.zeros((1, 27, 27)), 1.0)
>>> bool(np.isclose(loss, net.loss(np.zeros((1, 27, 27)), 1.0), rtol=1e-12))
True
"""

from __future__ import annotations

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - exercised only without the optional extra
    raise ImportError('the PyTorch reference needs torch: pip install "symcnn[test]"') from None

TORCH_ACTIVATIONS = {None: lambda z: z, "identity": lambda z: z, "sigmoid": torch.sigmoid,
                     "relu": torch.relu, "tanh": torch.tanh, "softmax": lambda z: torch.softmax(z, dim=1),
                     "leaky_relu": F.leaky_relu, "elu": F.elu, "softplus": F.softplus, "silu": F.silu,
                     "gelu": lambda z: F.gelu(z, approximate="tanh")}

#: Losses of one output f(p, t), elementwise, to be summed over outputs and averaged over the batch.
TORCH_ELEMENTWISE_LOSSES = {"huber": lambda p, t: F.huber_loss(p, t, reduction="none")}


def _lookup(table, functions, key, what):
    """The torch function for a built-in name (``table``) or a user object (``functions``)."""
    if isinstance(key, str) or key is None:
        return table[key]
    for candidate in (key, getattr(key, "name", None)):
        if candidate in functions:
            return functions[candidate]
    raise ValueError(f"the PyTorch reference needs a torch function for the user-defined {what} {key!r}: "
                     f"pass functions={{{key.name!r}: <torch function>}}")


def torch_logits(net, x, params, functions=None):
    """Forward pass of ``net``'s architecture in PyTorch; returns the last layer's logits.

    ``functions`` maps each user-defined activation (the object or its name) to a torch function.
    """
    functions = functions or {}
    a = x
    numbered = [layer for layer in net.layers if layer.kind != "flatten"]
    number = 0
    for layer in net.layers:
        if layer.kind == "flatten":
            a = a.flatten(1)
            continue
        number += 1
        name = f"{layer.kind}{number}"
        is_last = layer is numbered[-1]
        if layer.kind == "conv":
            weight = params[f"{name}.weight"]
            if layer.shared_channels:
                weight = weight.expand(-1, a.shape[1], -1, -1)
            z = F.conv2d(a, weight, params.get(f"{name}.bias"), stride=layer.stride, padding=layer.padding)
        elif layer.kind == "dense":
            z = F.linear(a, params[f"{name}.weight"], params.get(f"{name}.bias"))
        elif layer.mode == "max":
            z = F.max_pool2d(a, layer.size, layer.stride)
        else:
            z = F.avg_pool2d(a, layer.size, layer.stride)
        if is_last:
            return z.flatten(1)
        a = _lookup(TORCH_ACTIVATIONS, functions, layer.activation, "activation")(z) if layer.kind != "pool" else z
    raise AssertionError("unreachable: the last layer returns")


def torch_log_complement(logits):
    """log(1 - softmax(z)_k) = logsumexp_{j != k} z_j - logsumexp_j z_j, finite for any logits (N, K)."""
    classes = logits.shape[1]
    others = logits.unsqueeze(1).expand(-1, classes, -1).masked_fill(
        torch.eye(classes, dtype=torch.bool), float("-inf"))
    return torch.logsumexp(others, dim=2) - torch.logsumexp(logits, dim=1, keepdim=True)


def torch_loss(net, logits, targets, functions=None):
    """The mean loss over the batch, in PyTorch's own (stable where it has one) formulation.

    ``functions`` maps a user-defined loss (the object or its name) to a torch function
    f(p, t) of elementwise predictions and targets, and each user-defined activation to its
    torch function.
    """
    functions = functions or {}
    activation = [layer for layer in net.layers if layer.kind != "flatten"][-1].activation
    if net.loss_name not in ("bce", "cross_entropy", "mse"):  # f(p, t) on the outputs, summed over them
        outputs = _lookup(TORCH_ACTIVATIONS, functions, activation, "activation")(logits)
        per_output = _lookup(TORCH_ELEMENTWISE_LOSSES, functions, net.loss_name, "loss")(outputs, targets)
    elif net.loss_name == "bce" and activation == "sigmoid":
        per_output = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    elif net.loss_name == "bce":  # after a softmax: -(t log p + (1 - t) log(1 - p))
        log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        per_output = -(targets * log_p + (1 - targets) * torch_log_complement(logits))
    elif net.loss_name == "cross_entropy":
        return F.cross_entropy(logits, targets)
    else:
        return F.mse_loss(_lookup(TORCH_ACTIVATIONS, functions, activation, "activation")(logits), targets)
    return per_output.sum(dim=1).mean()


def torch_reference(net, x, y, functions=None):
    """(loss, gradients) of ``net`` at its current parameters, by PyTorch autograd in float64.

    ``functions``: {user-defined activation or loss (or its name): torch function}, see
    :func:`torch_logits` and :func:`torch_loss`.
    """
    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in net.params.items()}
    batch, _ = net.as_batch(x)
    targets = torch.tensor(net.as_targets(y, len(batch)), dtype=torch.float64)
    logits = torch_logits(net, torch.tensor(batch, dtype=torch.float64), params, functions)
    loss = torch_loss(net, logits, targets, functions)
    loss.backward()
    return float(loss.detach()), {k: p.grad.numpy() for k, p in params.items()}
