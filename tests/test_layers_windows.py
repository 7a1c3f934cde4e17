"""layers/windows.py: a gather by the batched index is im2col (checked against explicit slicing of a
zero-padded map) and np.bincount through it is its adjoint (<gather x, y> = <x, scatter y>), with padding
and strides: the two ways the conv and pooling stages use it."""

import numpy as np
import pytest

from symcnn.layers import WindowIndex


def _gather(index, x):
    """(N, H, W, C) -> (N positions, window entries) by one np.take of the batched index, as the stages do."""
    flat = x.reshape(len(x), -1)
    if index.padded:
        flat = np.concatenate([flat, np.zeros((len(flat), 1))], axis=1)
    return np.take(flat.reshape(-1), index.batched(len(x)))


def _scatter(index, values, count):
    """(N positions, window entries) summed back onto (N, H, W, C) by np.bincount through the batched index."""
    sums = np.bincount(index.batched(count).ravel(), weights=values.ravel(), minlength=count * index.sample_size)
    return sums.reshape(count, index.sample_size)[:, :index.size].reshape(count, *index.input_shape)

CASES = [((1, 4, 4), (2, 2), (1, 1), (0, 0)), ((3, 5, 6), (3, 2), (2, 1), (1, 0)),
         ((2, 7, 5), (3, 3), (2, 3), (2, 1)), ((2, 4, 4), (2, 2), (2, 2), (0, 0))]


@pytest.mark.parametrize("shape, window, stride, padding", CASES)
def test_gather_is_slicing_of_the_padded_map(shape, window, stride, padding):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, *shape))  # (N, C, H, W)
    index = WindowIndex(shape, window, stride, padding)
    gathered = _gather(index, x.transpose(0, 2, 3, 1)).reshape(len(x), -1, index.index.shape[1])
    (kh, kw), (sh, sw), (ph, pw) = window, stride, padding
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out_h, out_w = index.output_grid
    expected = np.array([[padded[n, :, sh * i:sh * i + kh, sw * j:sw * j + kw].ravel()
                          for i in range(out_h) for j in range(out_w)] for n in range(len(x))])
    assert gathered.shape == expected.shape
    np.testing.assert_array_equal(gathered, expected)


@pytest.mark.parametrize("shape, window, stride, padding", CASES)
def test_scatter_is_the_adjoint_of_gather(shape, window, stride, padding):
    rng = np.random.default_rng(1)
    index = WindowIndex(shape, window, stride, padding)
    x = rng.normal(size=(3, shape[1], shape[2], shape[0]))
    y = rng.normal(size=_gather(index, x).shape)
    left = float(np.sum(_gather(index, x) * y))
    right = float(np.sum(x * _scatter(index, y, len(x))))
    assert abs(left - right) <= 1e-12 * max(1.0, abs(left))
