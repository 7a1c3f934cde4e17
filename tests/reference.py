"""The one shared helper that compares symcnn against independent references.

References: PyTorch autograd in float64 (the network rebuilt layer by layer from its
description, sharing nothing with symcnn's evaluator) and central finite differences.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from symcnn.differentiate import central_differences

torch.set_default_dtype(torch.float64)

TORCH_ACTIVATIONS = {None: lambda z: z, "identity": lambda z: z, "sigmoid": torch.sigmoid,
                     "relu": torch.relu, "tanh": torch.tanh, "softmax": lambda z: torch.softmax(z, dim=1)}


def torch_logits(net, x, params):
    """Forward pass of ``net``'s architecture in PyTorch; returns the last layer's logits."""
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
        a = TORCH_ACTIVATIONS[layer.activation](z) if layer.kind != "pool" else z
    raise AssertionError("unreachable: the last layer returns")


def torch_loss(net, logits, targets):
    """The mean loss over the batch, in PyTorch's own (stable where it has one) formulation."""
    activation = [layer for layer in net.layers if layer.kind != "flatten"][-1].activation
    if net.loss_name == "bce" and activation == "sigmoid":
        per_output = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    elif net.loss_name == "bce":  # after a softmax: -(t log p + (1 - t) log(1 - p))
        log_p = torch.log_softmax(logits, dim=1)
        per_output = -(targets * log_p + (1 - targets) * torch.log1p(-torch.exp(log_p)))
    elif net.loss_name == "cross_entropy":
        return F.cross_entropy(logits, targets)
    else:
        return F.mse_loss(TORCH_ACTIVATIONS[activation](logits), targets)
    return per_output.sum(dim=1).mean()


def torch_reference(net, x, y):
    """(loss, gradients) of ``net`` at its current parameters, by PyTorch autograd in float64."""
    params = {k: torch.tensor(v, requires_grad=True) for k, v in net.params.items()}
    batch, _ = net._batch(x)
    targets = torch.tensor(net._targets(y, len(batch)))
    loss = torch_loss(net, torch_logits(net, torch.tensor(batch), params), targets)
    loss.backward()
    return float(loss.detach()), {k: p.grad.numpy() for k, p in params.items()}


def max_relative_error(actual: dict, expected: dict) -> float:
    """max over all entries of |a - e| / max(|e|, tiny), per parameter array scale."""
    worst = 0.0
    for key in expected:
        scale = max(np.abs(expected[key]).max(), 1e-300)
        worst = max(worst, float(np.abs(actual[key] - expected[key]).max() / scale))
    return worst


def assert_matches_torch(net, x, y, forward_rtol=1e-12, gradient_rtol=1e-9):
    """Assert loss and gradients of ``net`` equal PyTorch's, each with its own tolerance."""
    reference_loss, reference_gradients = torch_reference(net, x, y)
    loss = net.loss(x, y)
    assert abs(loss - reference_loss) <= forward_rtol * max(abs(reference_loss), 1e-300), (loss, reference_loss)
    gradients = net.gradients(x, y)
    assert list(gradients) == list(reference_gradients)
    error = max_relative_error(gradients, reference_gradients)
    assert error <= gradient_rtol, f"max relative gradient error {error:.3g} > {gradient_rtol}"
    return error


def assert_matches_finite_differences(net, x, y, rtol=1e-6, epsilon=1e-6):
    """Assert ``net.gradients`` equal central finite differences of ``net.loss``."""
    original = net.params

    def loss_at(params):
        net.set_params(params)
        return net.loss(x, y)

    try:
        numeric = central_differences(loss_at, original, epsilon)
    finally:
        net.set_params(original)
    error = max_relative_error(net.gradients(x, y), numeric)
    assert error <= rtol, f"max relative error against finite differences {error:.3g} > {rtol}"
    return error
