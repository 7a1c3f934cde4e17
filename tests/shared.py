"""What several test modules share that is not a fixture: the data directory and a network (imported as
``tests.shared``; importing ``tests.conftest`` would load the conftest a second time)."""

from pathlib import Path

import numpy as np

import symcnn as sc

MNIST_DIRECTORY = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"


def network_c_off_the_kinks(seed=None, bias_seed=5):
    """Network C (preset weights, or ``seed``'s) with nonzero conv1 biases drawn from ``bias_seed``:
    no pre-activation sits exactly on ReLU's kink."""
    net = sc.presets.network_c() if seed is None else sc.presets.network_c(seed=seed)
    rng = np.random.default_rng(bias_seed)
    net.set_params({key: value if key != "conv1.bias" else rng.uniform(-0.2, 0.2, value.shape)
                    for key, value in net.params.items()})
    return net
