"""The one shared helper that compares symcnn against independent references.

References: PyTorch autograd in float64 (the network rebuilt layer by layer from its
description, sharing nothing with symcnn's evaluator) and central finite differences.
"""

from __future__ import annotations

import numpy as np

from symcnn.differentiate import central_differences
from symcnn.torch_reference import torch_reference


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
