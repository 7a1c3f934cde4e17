"""Property tests: random architectures, inputs, weights and targets; gradients equal PyTorch's.

Every layer type and option is drawn (kernel sizes, stride, padding, channels, shared
channels, max/avg pooling with its window and stride, every hidden activation, bias on/off)
together with every loss and a last activation it accepts. In the "exact" mode inputs and
parameters are small multiples of powers of two and the hidden layers keep them so (no
activation or ReLU, average pools over 1, 2 or 4 entries): every value is computed without
rounding in both frameworks, pre-activations hit exactly 0 (ReLU'(0)) and pooling windows
hold exactly equal values (max-pool ties), where PyTorch's conventions must hold. (With
rounding, two equal values could come out one ulp apart in one framework only, and the
tie would then be broken differently for a reason that is not a convention.)
"""

import math

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn.losses import COMPATIBLE_ACTIVATIONS, LOSSES
from tests.reference import assert_matches_torch

HIDDEN_ACTIVATIONS = [None, "identity", "sigmoid", "relu", "tanh"]
EXACT_HIDDEN_ACTIVATIONS = [None, "identity", "relu"]  # dyadic rationals stay dyadic
MAX_SPATIAL_LAYERS = 3
#: Gradient arrays below this size (the losses here are of order 1) are zero up to the
#: rounding of cancelling terms (equal softmax rows, kernels summing to zero, targets
#: cancelling over the batch), so they are compared to within gradient_rtol * NEGLIGIBLE.
NEGLIGIBLE = 1e-4
#: A small loss carries the rounding of its order-1 logits: cross-entropy at p = 1 - 1e-4 is
#: log(1 + 1e-4) with an absolute error of about 1e-16, a relative one of about 1e-12.
FORWARD_RTOL = 1e-10


def _pair(draw, low, high):
    """An int or a (possibly unequal) pair of ints in [low, high]."""
    if draw(st.booleans()):
        return draw(st.integers(low, high))
    return (draw(st.integers(low, high)), draw(st.integers(low, high)))


def _as_pair(value):
    return (value, value) if isinstance(value, int) else value


@st.composite
def spatial_layer(draw, shape, exact, hidden=(HIDDEN_ACTIVATIONS, EXACT_HIDDEN_ACTIVATIONS)):
    """A Conv2D, MaxPool2D or AvgPool2D that fits an input of ``shape`` (C, H, W); its activation
    drawn from ``hidden`` (the inexact and the exact choices)."""
    _, height, width = shape
    activations = hidden[1] if exact else hidden[0]
    if draw(st.sampled_from(["conv", "pool"])) == "conv":
        padding = _pair(draw, 0, 1)
        pad_h, pad_w = _as_pair(padding)
        kernel = (draw(st.integers(1, min(3, height + 2 * pad_h))),
                  draw(st.integers(1, min(3, width + 2 * pad_w))))
        return sc.Conv2D(draw(st.integers(1, 3)), kernel, stride=_pair(draw, 1, 2), padding=padding,
                         bias=draw(st.booleans()), activation=draw(st.sampled_from(activations)),
                         shared_channels=draw(st.booleans()))
    pool = draw(st.sampled_from([sc.MaxPool2D, sc.AvgPool2D]))
    largest = 2 if exact and pool is sc.AvgPool2D else 3  # an exact mean divides by a power of two
    size = (draw(st.integers(1, min(largest, height))), draw(st.integers(1, min(largest, width))))
    stride = draw(st.none() | st.integers(1, 3))
    return pool(size, stride=stride)


@st.composite
def architecture(draw, last_activation, exact, hidden=(HIDDEN_ACTIVATIONS, EXACT_HIDDEN_ACTIVATIONS)):
    """(input_shape, layers): random spatial layers, then a dense or conv head ending in
    ``last_activation``; ``exact`` keeps the hidden layers free of rounding (with the
    activations of ``hidden``)."""
    shape = (draw(st.integers(1, 3)), draw(st.integers(3, 7)), draw(st.integers(3, 7)))
    input_shape, layers = shape, []
    for _ in range(draw(st.integers(0, MAX_SPATIAL_LAYERS))):
        layer = draw(spatial_layer(shape, exact, hidden))
        layers.append(layer)
        shape = layer.output_shape(shape)
    # softmax is a Dense layer's; bce after softmax and cross-entropy need two classes or more
    units = draw(st.integers(2 if last_activation == "softmax" else 1, 3))
    if last_activation != "softmax" and draw(st.booleans()):  # a convolution gives the logits
        kernel = (draw(st.integers(1, min(3, shape[1]))), draw(st.integers(1, min(3, shape[2]))))
        layers.append(sc.Conv2D(units, kernel, bias=draw(st.booleans()), activation=last_activation,
                                shared_channels=draw(st.booleans())))
        return input_shape, layers
    layers.append(sc.Flatten())
    if draw(st.booleans()):
        layers.append(sc.Dense(draw(st.integers(1, 4)), bias=draw(st.booleans()),
                               activation=draw(st.sampled_from(hidden[1] if exact else hidden[0]))))
    layers.append(sc.Dense(units, bias=draw(st.booleans()), activation=last_activation))
    return input_shape, layers


def _fan_in(shape):
    return int(np.prod(shape[1:])) if len(shape) > 1 else 1


def random_values(rng, shape, exact, scale=1.0):
    """Values of moderate size; with ``exact``, multiples of a power of two no finer than 2^-8.

    Sums and products of such numbers are exact in float64 at these sizes, so ties and
    zeros are reproduced identically by any summation order.
    """
    if not exact:
        return rng.uniform(-1, 1, shape) * scale
    power = 2.0 ** -max(0, min(8, math.ceil(-math.log2(scale))))  # nearest power of two <= scale
    return rng.integers(-2, 3, shape) * power


def random_problem(net, batch, seed, exact):
    """Random parameters, inputs (images in [0, 1]) and targets that fit ``net``'s loss."""
    rng = np.random.default_rng(seed)
    net.set_params({key: random_values(rng, value.shape, exact, scale=1 / math.sqrt(_fan_in(value.shape)))
                    for key, value in net.params.items()})
    shape = (batch, *net.input_shape)
    # exact images take the values 0, 1/2, 1 (many equal pixels, like a thresholded digit)
    x = rng.integers(0, 3, shape) / 2 if exact else rng.random(shape)
    outputs = (batch, net.output_size)
    if net.loss_name == "cross_entropy":
        y = rng.integers(0, net.output_size, batch)
    elif net.loss_name == "bce":
        y = rng.integers(0, 2, outputs).astype(float) if exact else rng.random(outputs)
    else:
        y = rng.normal(size=outputs)
    return x, y


#: every loss with every last activation it accepts, each tested on its own (the activations
#: added with user-defined math, and huber, are drawn in the test after this one)
ORIGINAL_ACTIVATIONS = [None, "identity", "sigmoid", "relu", "tanh", "softmax"]
LOSS_AND_LAST_ACTIVATION = [(loss, activation) for loss in LOSSES if loss != "huber"
                            for activation in COMPATIBLE_ACTIVATIONS[loss] if activation in ORIGINAL_ACTIVATIONS]


@pytest.mark.parametrize("loss, last_activation", LOSS_AND_LAST_ACTIVATION)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), batch=st.integers(1, 3), seed=st.integers(0, 2 ** 32 - 1), exact=st.booleans())
def test_gradients_match_pytorch_for_random_architectures(loss, last_activation, data, batch, seed, exact):
    input_shape, layers = data.draw(architecture(last_activation, exact), label="architecture")
    net = sc.Network(input_shape, layers, loss=loss, seed=0)
    note(repr(net))
    x, y = random_problem(net, batch, seed, exact)
    assert_matches_torch(net, x, y, forward_rtol=FORWARD_RTOL, gradient_rtol=1e-9, negligible=NEGLIGIBLE)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from([(2, 2), (3, 1), (2, 1)]))
def test_max_pool_ties_and_relu_zeros_follow_pytorch(seed, window_and_stride):
    """Images of 2x2 blocks of equal pixels (0, 1/2 or 1): many max-pool ties and ReLU inputs of exactly 0."""
    window, stride = window_and_stride
    net = sc.Network((1, 8, 8), [
        sc.Conv2D(2, 2, activation="relu", bias=False), sc.MaxPool2D(window, stride=stride),
        sc.Conv2D(2, 2, activation="relu", bias=True), sc.MaxPool2D(2, stride=1),
        sc.Flatten(), sc.Dense(3, activation="softmax")], loss="cross_entropy")
    x, y = random_problem(net, 2, seed, exact=True)
    x = np.repeat(np.repeat(x[:, :, ::2, ::2], 2, axis=2), 2, axis=3)  # 2x2 blocks of one value
    # a gradient that is zero in exact arithmetic (every path through a tie cancels) comes out of
    # either framework as rounding noise of order 1e-17, with no scale of its own to be relative to
    assert_matches_torch(net, x, y, forward_rtol=1e-12, gradient_rtol=1e-9, negligible=NEGLIGIBLE)


SWISH = sc.Activation("swish", lambda z: z * sc.sigmoid(z))
SOFTSIGN = sc.Activation("softsign", lambda z: z / (1 + sympy.Abs(z)))
QUARTER_LEAKY = sc.leaky_relu(0.25)  # dyadic slope: exact inputs stay exact, and hit its kink at 0
LOG_COSH = sc.Loss("log_cosh", lambda p, t: sympy.log(sympy.cosh(p - t)))
#: the same functions written again in torch (the reference never sees symcnn's expressions)
TORCH_FUNCTIONS = {SWISH: lambda z: z * torch.sigmoid(z), SOFTSIGN: lambda z: z / (1 + torch.abs(z)),
                   QUARTER_LEAKY: lambda z: F.leaky_relu(z, 0.25),
                   LOG_COSH: lambda p, t: torch.log(torch.cosh(p - t))}
USER_HIDDEN = ([SWISH, SOFTSIGN, QUARTER_LEAKY, "leaky_relu", "elu", "softplus", "silu", "gelu", "relu"],
               [QUARTER_LEAKY, "relu", None])
USER_LAST = [SWISH, SOFTSIGN, "gelu", "elu", "softplus", None, "softmax"]


@pytest.mark.parametrize("loss", [LOG_COSH, "huber", "mse"], ids=str)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), batch=st.integers(1, 3), seed=st.integers(0, 2 ** 32 - 1), exact=st.booleans())
def test_user_defined_math_gradients_match_pytorch_for_random_architectures(loss, data, batch, seed, exact):
    last_activation = data.draw(st.sampled_from(USER_LAST), label="last activation")
    input_shape, layers = data.draw(architecture(last_activation, exact, USER_HIDDEN), label="architecture")
    net = sc.Network(input_shape, layers, loss=loss, seed=0)
    note(repr(net))
    x, y = random_problem(net, batch, seed, exact)
    assert_matches_torch(net, x, y, forward_rtol=FORWARD_RTOL, gradient_rtol=1e-9, negligible=NEGLIGIBLE,
                         functions=TORCH_FUNCTIONS)
