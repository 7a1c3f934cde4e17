"""The reference networks of symcnn, ready to train.

>>> net = network_a()
>>> [key for key in net.params]
['conv1.weight', 'conv2.weight', 'conv3.weight', 'dense4.weight']
"""

from __future__ import annotations

from .layers import Conv2D, Dense, Flatten
from .network import Network


def network_a(seed: int = 0, naming: str = "symcnn") -> Network:
    """Network A: three sigmoid convolutions (3x3, 5x5, 7x7) on 1x27x27, dense to one sigmoid unit.

    No biases; binary cross-entropy with label 1 (-log p); Glorot-uniform initialisation
    with the reference's n_in = kernel area (225 for the dense layer) and n_out = 1.

    >>> network_a().graph.nodes[-1].output_shape
    (1,)
    """
    init = "glorot_reference"
    return Network(input_shape=(1, 27, 27), layers=[
        Conv2D(1, 3, activation="sigmoid", bias=False, init=init),
        Conv2D(1, 5, activation="sigmoid", bias=False, init=init),
        Conv2D(1, 7, activation="sigmoid", bias=False, init=init),
        Flatten(),
        Dense(1, activation="sigmoid", bias=False, init=init)], loss="bce", seed=seed, naming=naming)
