"""Fixtures shared by the tests."""

import functools
import os

import numpy as np
import pytest
from hypothesis import settings

import symcnn as sc
from tests.shared import MNIST_DIRECTORY

# CI runs the property tests on a fixed sequence of examples, so that a run is reproducible;
# locally every run explores new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")



@pytest.fixture(scope="session")
def photo():
    """A real photo (Grace Hopper, shipped with matplotlib) as network A's 1x27x27 input."""
    from symcnn.data import sample_image
    return sample_image((27, 27))


@pytest.fixture(scope="session")
def mnist():
    """``load_mnist`` bound to the shared real MNIST test set (same keyword arguments); skips if absent."""
    from symcnn.data import load_mnist
    if not any(MNIST_DIRECTORY.glob("t10k-images-idx3-ubyte*")):
        pytest.skip(f"MNIST test set not found in {MNIST_DIRECTORY}")
    return functools.partial(load_mnist, MNIST_DIRECTORY)


@pytest.fixture(scope="module")
def net_a():
    """Network A as preset (read only: a test that changes it builds its own)."""
    return sc.presets.network_a()


@pytest.fixture(scope="module")
def net_c():
    """Network C as preset (read only)."""
    return sc.presets.network_c()


@pytest.fixture(scope="module")
def noisy_digit(mnist):
    """The first MNIST test digit with faint noise, so that no two max-pool window entries tie exactly."""
    images, labels = mnist()
    return images[0] + 0.01 * np.random.default_rng(7).random(images[0].shape), int(labels[0])


@pytest.fixture(scope="module")
def digit(mnist):
    """The third MNIST test digit and its label."""
    images, labels = mnist()
    return images[2], int(labels[2])


@pytest.fixture
def small_network():
    """A network small enough for the unrolled evaluator, with every layer kind."""
    def build(loss="cross_entropy", last_activation="softmax", seed=0):
        return sc.Network((2, 7, 7), [
            sc.Conv2D(3, 3, padding=1, stride=2, activation="tanh"),
            sc.Conv2D(2, 2, activation="relu", shared_channels=True, bias=False),
            sc.MaxPool2D(2, stride=1),
            sc.AvgPool2D(1),
            sc.Flatten(),
            sc.Dense(3, activation=last_activation)], loss=loss, seed=seed)
    return build


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def katex():
    """The real TeX-math renderer of ``tests/katex.py``, installed once: ``katex.assert_renders([...])``."""
    from tests import katex as renderer
    renderer.install()
    return renderer
