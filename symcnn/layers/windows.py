"""Windows of a feature map by precomputed index: gather (im2col) and scatter (sum back), shared by
the conv and pooling kernels.

>>> import numpy as np
>>> windows = WindowIndex((1, 3, 3), (2, 2), (1, 1), (0, 0))
>>> x = np.arange(9.0).reshape(1, 3, 3, 1)  # (N, H, W, C)
>>> windows.gather(x)[0, 0]  # the top-left 2x2 window
array([0., 1., 3., 4.])
>>> windows.scatter(np.ones((1, 4, 4)))[0, :, :, 0]  # how many windows hold each entry
array([[1., 2., 1.],
       [2., 4., 2.],
       [1., 2., 1.]])
"""

from __future__ import annotations

import numpy as np


class WindowIndex:
    """Where every window entry of a layer sits in its flattened channels-last input.

    ``index[p, k]`` is the flat position of input x[c, s i + u - pad, s j + v - pad] for output
    position p = (i, j) and window entry k = (c, u, v), or ``size`` (an appended zero) where
    the window reaches into the zero padding. Gathering with it is im2col in one call;
    ``np.bincount`` over it sums gradients back onto the inputs in one call.

    Parameters: ``input_shape`` (C, H, W); ``window``, ``stride``, ``padding`` as pairs.
    """

    def __init__(self, input_shape, window, stride, padding):
        channels, height, width = input_shape
        (kh, kw), (sh, sw), (ph, pw) = window, stride, padding
        out_h, out_w = (height + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1
        i, j, c, u, v = np.ix_(range(out_h), range(out_w), range(channels), range(kh), range(kw))
        row, col = sh * i + u - ph, sw * j + v - pw
        inside = (row >= 0) & (row < height) & (col >= 0) & (col < width)
        self.size = channels * height * width
        flat = np.where(inside, (row * width + col) * channels + c, self.size)
        self.index = flat.reshape(out_h * out_w, channels * kh * kw)
        self.padded = not inside.all()
        self.output_grid = (out_h, out_w)
        self.input_shape = (height, width, channels)
        self._batch_index = {}

    def gather(self, x):
        """(N, H, W, C) -> (N, positions, window entries)."""
        flat = x.reshape(x.shape[0], -1)
        if self.padded:
            flat = np.concatenate([flat, np.zeros((len(flat), 1))], axis=1)
        return np.take(flat, self.index, axis=1)

    def scatter(self, window_values):
        """(N, positions, window entries) summed back onto (N, H, W, C); padding dropped."""
        n = window_values.shape[0]
        if n not in self._batch_index:  # sample n's entries go to bins n*(size + 1) + index
            offsets = np.arange(n)[:, None] * (self.size + 1)
            self._batch_index[n] = (self.index.reshape(1, -1) + offsets).ravel()
        sums = np.bincount(self._batch_index[n], weights=window_values.ravel(), minlength=n * (self.size + 1))
        return sums.reshape(n, self.size + 1)[:, :self.size].reshape(n, *self.input_shape)
