"""The reference networks of symcnn (A-D of ARCHITECTURES.md), ready to train.

>>> net = network_a()
>>> [key for key in net.params]
['conv1.weight', 'conv2.weight', 'conv3.weight', 'dense4.weight']
>>> sorted(PRESETS)
['a', 'b', 'c', 'd']
"""

from __future__ import annotations

from .layers import Conv2D, Dense, Flatten, MaxPool2D
from .network import Network


def network_a(seed: int = 0, naming: str = "symcnn") -> Network:
    """Network A: three sigmoid convolutions (3x3, 5x5, 7x7) on 1x27x27, dense to one sigmoid unit.

    No biases; binary cross-entropy with label 1 (-log p); Glorot-uniform initialisation
    with the reference's n_in = kernel area (225 for the dense layer) and n_out = 1.

    >>> network_a().graph.nodes[-1].output_shape
    (1,)

    Parameters: ``seed`` of the initial weights; ``naming`` scheme (``"symcnn"`` or ``"r"``).
    """
    init = "glorot_reference"
    return Network(input_shape=(1, 27, 27), layers=[
        Conv2D(1, 3, activation="sigmoid", bias=False, init=init),
        Conv2D(1, 5, activation="sigmoid", bias=False, init=init),
        Conv2D(1, 7, activation="sigmoid", bias=False, init=init),
        Flatten(),
        Dense(1, activation="sigmoid", bias=False, init=init)], loss="bce", seed=seed, naming=naming)


def network_b(seed: int = 0, naming: str = "symcnn") -> Network:
    """Network B: the two-convolution MNIST classifier of the hand-written backprop, as coded.

    1x28x28 -> conv 8x8, 16 filters, bias -> 16x21x21 -> conv 4x4, 8 filters, stride 2,
    bias -> 8x9x9 -> flatten (648) -> dense 10 with bias, softmax; categorical
    cross-entropy. No hidden activation (the original's code applies none). Weights
    U(-0.5, 0.5), conv biases zero, dense bias U(-0.5, 0.5).

    >>> net = network_b()
    >>> [node.output_shape for node in net.graph.nodes]
    [(16, 21, 21), (8, 9, 9), (648,), (10,)]

    Parameters: ``seed`` of the initial weights; ``naming`` scheme (``"symcnn"`` or ``"r"``).
    """
    return Network(input_shape=(1, 28, 28), layers=[
        Conv2D(16, 8, bias=True, init="uniform", bias_init="zeros"),
        Conv2D(8, 4, stride=2, bias=True, init="uniform", bias_init="zeros"),
        Flatten(),
        Dense(10, activation="softmax", bias=True, init="uniform", bias_init="uniform")],
        loss="cross_entropy", seed=seed, naming=naming)


def network_c(seed: int = 0, naming: str = "symcnn") -> Network:
    """Network C: the building-blocks MNIST classifier (padding, ReLU, max-pooling, softmax).

    1x28x28 -> conv 3x3, 8 filters, padding 1, bias, ReLU -> 8x28x28 -> max-pool 2x2
    stride 2 -> 8x14x14 -> flatten (1568) -> dense 10 with bias, softmax; cross-entropy
    averaged over the mini-batch. The reference leaves the initialisation open: He for
    the ReLU convolution (keeps the activations' variance), Glorot-uniform for the
    softmax layer; biases zero.

    >>> net = network_c()
    >>> [node.output_shape for node in net.graph.nodes]
    [(8, 28, 28), (8, 14, 14), (1568,), (10,)]

    Parameters: ``seed`` of the initial weights; ``naming`` scheme (``"symcnn"`` or ``"r"``).
    """
    return Network(input_shape=(1, 28, 28), layers=[
        Conv2D(8, 3, padding=1, bias=True, activation="relu", init="he"),
        MaxPool2D(2, stride=2),
        Flatten(),
        Dense(10, activation="softmax", bias=True, init="glorot_uniform")],
        loss="cross_entropy", seed=seed, naming=naming)


def network_d(seed: int = 0, naming: str = "symcnn") -> Network:
    """Network D: three ReLU convolutions for digits 3 vs 6, two of them channel-shared.

    1x27x27 -> conv 3x3, 5 filters -> 5x25x25 -> conv 5x5, 5 filters, one kernel per
    filter shared by all input channels -> 5x21x21 -> conv 7x7, 5 shared filters ->
    5x15x15 -> flatten (1125) -> dense 2, softmax. No biases; ReLU after every conv;
    binary cross-entropy summed over the two outputs; Glorot-uniform with the reference's
    limits sqrt(6/(5 k^2 + 1)) (conv) and sqrt(6/(2*1125 + 2)) (dense).

    >>> net = network_d()
    >>> {key: value.shape for key, value in net.params.items()}
    {'conv1.weight': (5, 1, 3, 3), 'conv2.weight': (5, 1, 5, 5), 'conv3.weight': (5, 1, 7, 7), 'dense4.weight': (2, 1125)}

    Parameters: ``seed`` of the initial weights; ``naming`` scheme (``"symcnn"`` or ``"r"``).
    """
    init = "glorot_reference"
    return Network(input_shape=(1, 27, 27), layers=[
        Conv2D(5, 3, bias=False, activation="relu", init=init),
        Conv2D(5, 5, bias=False, activation="relu", shared_channels=True, init=init),
        Conv2D(5, 7, bias=False, activation="relu", shared_channels=True, init=init),
        Flatten(),
        Dense(2, bias=False, activation="softmax", init=init)], loss="bce", seed=seed, naming=naming)


#: Preset name -> function building that network.
PRESETS = {"a": network_a, "b": network_b, "c": network_c, "d": network_d}


def get(name: str, **kwargs) -> Network:
    """Build the preset called ``name`` (``"a"`` to ``"d"``, any case).

    >>> get("B", seed=1).loss_name
    'cross_entropy'

    Parameters: ``name`` of the preset; ``kwargs`` (``seed``, ``naming``) passed to it.
    Raises ``ValueError`` listing the choices for an unknown name.
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; expected one of {', '.join(map(repr, PRESETS))}")
    return PRESETS[key](**kwargs)


#: How each preset is trained, the one place the CLI (``symcnn train``) and
#: ``scripts/results.py`` read it from: learning rate, epochs, batch size (None: full batch),
#: train and test index ranges of the MNIST test set (None: preset a's photo), MNIST classes
#: (None: all ten), crop (None: 28x28).
RECIPES = {
    "a": dict(lr=0.1, epochs=20, batch_size=None, train=None, test=None, classes=None, crop=None),
    "b": dict(lr=0.0003, epochs=1, batch_size=1, train=(0, 1000), test=(9000, 10000), classes=None, crop=None),
    "c": dict(lr=0.1, epochs=5, batch_size=32, train=(0, 8000), test=(8000, 10000), classes=None, crop=None),
    "d": dict(lr=0.001, epochs=50, batch_size=None, train=(0, 50), test=(50, 250), classes=(3, 6),
              crop=(27, 27)),
}
