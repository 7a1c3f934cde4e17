"""Windows of a feature map by precomputed index: gather (im2col) and scatter (sum back), shared by
the conv and pooling kernels.

>>> import numpy as np
>>> windows = WindowIndex((1, 3, 3), (2, 2), (1, 1), (0, 0))
>>> x = np.arange(9.0).reshape(1, 3, 3, 1)  # (N, H, W, C)
>>> np.take(x.reshape(-1), windows.batched(1))[0]  # im2col: the top-left 2x2 window
array([0., 1., 3., 4.])
>>> np.bincount(windows.batched(1).ravel(), minlength=9).reshape(3, 3)  # how many windows hold each entry
array([[1, 2, 1],
       [2, 4, 2],
       [1, 2, 1]])
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
        self.geometry = (window, stride, padding)

    @property
    def sample_size(self) -> int:
        """Entries per sample of the map gathered from: the map, plus one zero if padded."""
        return self.size + 1 if self.padded else self.size

    def batched(self, batch: int) -> np.ndarray:
        """(batch positions, window entries) flat indices into ``batch`` maps laid end to end, each of
        :attr:`sample_size` entries: one ``np.take`` of it is im2col of the whole batch."""
        offsets = np.arange(batch).reshape(-1, 1, 1) * self.sample_size
        return (self.index[None] + offsets).reshape(-1, self.index.shape[1])

    def transposed(self, batch: int, filters: int) -> np.ndarray:
        """(batch H W, filters kh kw) flat indices into (batch, out_h, out_w, filters) values with one
        zero appended: row (n, r, q), column (f, u, v) reads the output at the window position whose
        entry (u, v) is input (r, q), or the zero where there is none. Gathering dL/dz with it and one
        matmul by the (f u v, c) kernel is the transposed pass (as a convolution of dL/dz)."""
        height, width, _ = self.input_shape
        (kh, kw), (sh, sw), (ph, pw) = self.geometry
        out_h, out_w = self.output_grid
        n, r, q, f, u, v = np.ix_(range(batch), range(height), range(width), range(filters), range(kh), range(kw))
        i, j = r + ph - u, q + pw - v  # s * (output row) = input row + padding - kernel row
        hit = (i % sh == 0) & (j % sw == 0) & (i >= 0) & (j >= 0) & (i < sh * out_h) & (j < sw * out_w)
        flat = ((n * out_h + i // sh) * out_w + j // sw) * filters + f
        return np.where(hit, flat, batch * out_h * out_w * filters).reshape(batch * height * width, -1)
