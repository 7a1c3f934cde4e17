"""The one shared helper that compares symcnn against independent references.

References: PyTorch autograd in float64 (the network rebuilt layer by layer from its
description, sharing nothing with symcnn's evaluator) and central finite differences.
"""

from __future__ import annotations

import numpy as np

from symcnn.differentiate import central_differences
from symcnn.torch_reference import torch_reference


def max_relative_error(actual: dict, expected: dict, negligible: float = 0.0) -> float:
    """max over all entries of |a - e| / max(|e|, tiny), per parameter array scale.

    ``negligible`` > 0 floors each array's scale at that absolute value: an array that is
    zero in exact arithmetic only by cancellation (say, the weights into a softmax whose
    rows are equal) comes out of either framework as rounding noise of the cancelling
    terms, and has no scale of its own to be relative to.
    """
    worst = 0.0
    for key in expected:
        scale = max(np.abs(expected[key]).max(), negligible, 1e-300)
        worst = max(worst, float(np.abs(actual[key] - expected[key]).max() / scale))
    return worst


def assert_matches_torch(net, x, y, forward_rtol=1e-12, gradient_rtol=1e-9, negligible=0.0, functions=None,
                         loss_and_gradients=None):
    """Assert loss and gradients of ``net`` equal PyTorch's, each with its own tolerance.

    ``negligible``: a loss or gradient array smaller than this is measured against it
    rather than against itself (see :func:`max_relative_error`). ``functions``: the torch
    functions of user-defined activations and losses (see ``torch_reference``).
    ``loss_and_gradients``: another implementation of the same network to check, a function
    of (x, y) returning (loss, gradients); None checks ``net.loss`` and ``net.gradients``.
    """
    reference_loss, reference_gradients = torch_reference(net, x, y, functions)
    if loss_and_gradients is None:
        loss, gradients = net.loss(x, y), net.gradients(x, y)
    else:
        loss, gradients = loss_and_gradients(x, y)
    assert abs(loss - reference_loss) <= forward_rtol * max(abs(reference_loss), negligible, 1e-300), \
        (loss, reference_loss)
    assert list(gradients) == list(reference_gradients)
    error = max_relative_error(gradients, reference_gradients, negligible)
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


def assert_matches_input_finite_differences(function, x, gradient, rtol=1e-6, epsilon=1e-6):
    """Assert ``gradient`` (an array shaped like ``x``) equals central finite differences of
    the scalar ``function(x)`` with respect to every entry of ``x``."""
    numeric = central_differences(lambda values: function(values["x"]), {"x": np.asarray(x, dtype=float)},
                                  epsilon)["x"]
    error = max_relative_error({"x": np.asarray(gradient)}, {"x": numeric})
    assert error <= rtol, f"max relative error against finite differences {error:.3g} > {rtol}"
    return error


def assert_entry_matches_torch(net, x, y, key, index, value, rtol=1e-9, functions=None):
    """Assert ``value`` equals PyTorch's dLoss/d``key``[``index``] (a derivation's total, say)."""
    _, reference_gradients = torch_reference(net, x, y, functions)
    expected = float(reference_gradients[key][tuple(index)])
    assert abs(value - expected) <= rtol * max(abs(expected), 1e-300), (value, expected)
    return expected


def torch_vector_jacobian_product(function, z, g):
    """sum_k g[n, k] d function(z)[n, k] / d z[n, m] by PyTorch autograd in float64, and function(z) itself.

    ``function`` maps a (N, K) float64 tensor to a (N, K) tensor, written with torch.
    """
    import torch

    logits = torch.tensor(np.asarray(z, dtype=float), dtype=torch.float64, requires_grad=True)
    values = function(logits)
    (gradient,) = torch.autograd.grad(values, logits, torch.tensor(np.asarray(g, dtype=float), dtype=torch.float64))
    return gradient.numpy(), values.detach().numpy()


def assert_arrays_close(actual, expected, rtol, what=""):
    """Assert |actual - expected| <= rtol * max(|expected|) (the array's own scale), entry by entry."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    error = max_relative_error({what: actual}, {what: expected})
    assert error <= rtol, f"{what}: relative error {error:.3g} > {rtol}"
    return error
