"""Conv2D: its shape rule, template, substitution, numeric kernel and rolled indexing.

>>> conv = Conv2D(1, 2, activation="sigmoid", bias=False)
>>> conv.output_shape((1, 4, 4))
(1, 3, 3)
>>> template = conv.template((1, 4, 4))
>>> template.weighted_sum
Sum(omega[c, u, v]*xi[c, u, v], (c, 0, 0), (u, 0, 1), (v, 0, 1))
>>> template.expanded_weighted_sum()
omega_0_0_0*xi_0_0_0 + omega_0_0_1*xi_0_0_1 + omega_0_1_0*xi_0_1_0 + omega_0_1_1*xi_0_1_1
>>> template.output
Sigmoid(zeta)
"""

from __future__ import annotations

import math

import numpy as np
import sympy

from ..activations import check_activation
from ..checks import check_bool, check_int
from ..naming import template_symbol
from ..rewrites import presummed_axes
from .base import (INDEX, Kernel, Layer, LayerTemplate, RolledIndexing, affine_template, check_affine_structure,
                   check_init, gradient_target, positive_pair, template_kernel, template_patch, window_output_size,
                   window_positions)
from .windows import WindowIndex


class Conv2D(Layer):
    """A 2-D convolution (cross-correlation, as in PyTorch) with an optional activation.

    z[f, i, j] = sum_{c,u,v} w[f, c, u, v] * x[c, s*i + u - p, s*j + v - p] + b[f],
    a[f, i, j] = activation(z[f, i, j]). With ``shared_channels=True`` each filter is one
    kernel applied identically to every input channel (weights (F, 1, kh, kw)), as in
    network D.

    >>> Conv2D(8, 3, padding=1, stride=2).output_shape((3, 28, 28))
    (8, 14, 14)
    >>> Conv2D(5, 5, shared_channels=True, bias=False).parameter_shapes((5, 25, 25))
    {'weight': (5, 1, 5, 5)}

    Parameters: ``filters`` (F), ``kernel_size`` (int or pair), ``stride``, ``padding``
    (zeros, int or pair), ``bias``, ``activation`` (a name in
    :data:`symcnn.activations.ACTIVATIONS` or a :class:`~symcnn.activations.Activation`),
    ``shared_channels``, ``init`` (weights) and ``bias_init``.
    """

    kind = "conv"
    has_parameters = True
    has_weighted_sum = True

    def __init__(self, filters, kernel_size, stride=1, padding=0, bias=True, activation=None,
                 shared_channels=False, init="glorot_uniform", bias_init="zeros"):
        name = "Conv2D"
        self.filters = check_int(filters, f"{name}: filters")
        self.kernel_size = positive_pair(kernel_size, "kernel_size", name)
        self.stride = positive_pair(stride, "stride", name)
        self.padding = positive_pair(padding, "padding", name, minimum=0)
        self.bias = check_bool(bias, f"{name}: bias")
        self.activation = check_activation(activation)
        self.shared_channels = check_bool(shared_channels, f"{name}: shared_channels")
        self.init = check_init(init, "init", name)
        self.bias_init = check_init(bias_init, "bias_init", name)

    def config(self) -> dict:
        """The constructor arguments that rebuild this layer, as a JSON-able dict (a user-defined
        :class:`~symcnn.activations.Activation` stays an object; :mod:`symcnn.persistence` writes it as data).

        >>> Conv2D(8, 3, stride=2, activation="relu").config()["stride"]
        [2, 2]
        """
        return {"filters": self.filters, "kernel_size": list(self.kernel_size), "stride": list(self.stride),
                "padding": list(self.padding), "bias": self.bias, "activation": self.activation,
                "shared_channels": self.shared_channels, "init": self.init, "bias_init": self.bias_init}

    def describe(self) -> str:
        kh, kw = self.kernel_size
        extras = [f"stride {self.stride}" if self.stride != (1, 1) else "",
                  f"padding {self.padding}" if self.padding != (0, 0) else "",
                  "shared channels" if self.shared_channels else "", "bias" if self.bias else "no bias"]
        extras = ", ".join(e for e in extras if e)
        return f"Conv2D {self.filters}x{kh}x{kw} ({extras}), {self.activation or 'no activation'}"

    def output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{self.describe()}: needs a (channels, height, width) input, got shape {input_shape}")
        _, height, width = input_shape
        out_h = window_output_size(height, self.kernel_size[0], self.stride[0], self.padding[0], self.describe(), "height")
        out_w = window_output_size(width, self.kernel_size[1], self.stride[1], self.padding[1], self.describe(), "width")
        return (self.filters, out_h, out_w)

    def parameter_shapes(self, input_shape):
        channels = 1 if self.shared_channels else input_shape[0]
        shapes = {"weight": (self.filters, channels, *self.kernel_size)}
        if self.bias:
            shapes["bias"] = (self.filters,)
        return shapes

    def template_size(self, input_shape):
        return input_shape[0] * self.kernel_size[0] * self.kernel_size[1]

    def fans(self, shape, convention):
        """``"standard"`` (PyTorch's): C kh kw and F kh kw; ``"reference"``: every weight of the layer in, 1 out
        (network A: sqrt(6/(9 + 1)) for its 3x3 kernel, network D: sqrt(6/(5*3*3 + 1))).

        >>> Conv2D(5, 3).fans((5, 1, 3, 3), "reference"), Conv2D(5, 3).fans((5, 1, 3, 3), "standard")
        ((45, 1), (9, 45))
        """
        if convention == "reference":
            return math.prod(shape), 1
        receptive = math.prod(shape[2:])
        return shape[1] * receptive, shape[0] * receptive

    def template(self, input_shape) -> LayerTemplate:
        """zeta = sum_{c,u,v} omega[c,u,v] xi[c,u,v] (+ beta); alpha = activation(zeta); a kernel shared by
        the channels is omega[u,v]: zeta = sum_{c,u,v} omega[u,v] xi[c,u,v].

        >>> Conv2D(2, 3, shared_channels=True, bias=False).template((4, 9, 9)).weighted_sum
        Sum(omega[u, v]*xi[c, u, v], (c, 0, 3), (u, 0, 2), (v, 0, 2))
        """
        return affine_template((input_shape[0], *self.kernel_size), "cuv", self.bias, self.activation,
                               kernel_index_names="uv" if self.shared_channels else None)

    def substitution(self, position, inputs, weights, bias) -> dict:
        """Template symbol -> named scalar (or 0 in the zero padding) at output ``position``."""
        f, i, j = position
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        channels, height, width = inputs.shape
        mapping = {}
        for c in range(channels):
            for u in range(kh):
                for v in range(kw):
                    row, col = sh * i + u - ph, sw * j + v - pw
                    inside = 0 <= row < height and 0 <= col < width
                    mapping[template_patch(c, u, v)] = inputs[c, row, col] if inside else sympy.S.Zero
                    if self.shared_channels:
                        mapping[template_kernel(u, v)] = weights[f, 0, u, v]
                    else:
                        mapping[template_kernel(c, u, v)] = weights[f, c, u, v]
        if bias is not None:
            mapping[template_symbol("bias")] = bias[f]
        return mapping

    def positions_reading(self, index, input_shape, output_shape):
        """Every filter's positions whose window covers input entry (c, row, column)."""
        _, row, column = index
        rows = window_positions(row, self.kernel_size[0], self.stride[0], self.padding[0], output_shape[1])
        columns = window_positions(column, self.kernel_size[1], self.stride[1], self.padding[1], output_shape[2])
        return [(f, i, j) for f in range(output_shape[0]) for i in rows for j in columns]

    def kernel(self, node, template, needs_input_gradient):
        """:class:`ConvKernel`: im2col contraction for z and the contractions back."""
        check_affine_structure(node.name, template)
        return ConvKernel(node, template, needs_input_gradient)

    def rolled_indexing(self, node, x_base, w_base) -> RolledIndexing:
        """z[f, i, j] = sum_{c,u,v} w[f, c, u, v] x[c, s i + u - p, s j + v - p] (+ b[f])."""
        f, c, i, j, u, v = (INDEX[name] for name in "fcijuv")
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        # the weight's own indices fix the summation indices, except c for a shared kernel
        weight_indices = (f, 0, u, v) if self.shared_channels else (f, c, u, v)
        return RolledIndexing(
            position=(f, i, j), unit=f, x_entry=x_base[c, sh * i + u - ph, sw * j + v - pw],
            w_entry=w_base[f, 0 if self.shared_channels else c, u, v],
            summed=((c, 0, node.input_shape[0] - 1), (u, 0, kh - 1), (v, 0, kw - 1)), weight_indices=weight_indices,
            positions_summed=((i, 0, node.output_shape[1] - 1), (j, 0, node.output_shape[2] - 1)))


class ConvKernel(Kernel):
    """Conv layer, numerically: im2col contraction for z, contractions back to w, b and x.

    When the derived template has the weight as a common factor over the input channels
    (:func:`symcnn.rewrites.presummed_axes`: a channel-shared kernel), the channels are summed
    first and the layer runs as a one-channel convolution (``use_rewrites=False`` runs it plain).
    """

    use_rewrites = True

    def __init__(self, node, template, needs_input_gradient):
        layer = node.layer
        self.keys = node.parameter_keys()
        self.kernel_size, self.stride, self.padding = layer.kernel_size, layer.stride, layer.padding
        self.shared = layer.shared_channels
        self.input_shape, self.filters = tuple(node.input_shape), node.output_shape[0]
        self.output_grid = tuple(node.output_shape[1:])
        self.presummed = presummed_axes(template)
        self.needs_input_gradient = needs_input_gradient

    def make_stage(self, batch):
        return ConvStage(self, batch, factored=self.use_rewrites and self.presummed == (0,))


class ConvStage:
    """One batch size of a conv layer: gather indices, im2col and output buffers, and the transposed
    pass (``np.bincount`` through the gather index, or a gather of dL/dz through the inverse index and
    one matmul) that is estimated cheaper for this layer and size."""

    def __init__(self, kernel, batch, factored):
        self.kernel, self.batch, self.factored = kernel, batch, factored
        channels, height, width = kernel.input_shape
        self.channels = 1 if factored else channels  # factored: the channels are summed first
        self.windows = WindowIndex((self.channels, height, width), kernel.kernel_size, kernel.stride, kernel.padding)
        self.index = None  # the batched gather index, made where a pass reads by it
        self.output_shape = (batch, *kernel.output_grid, kernel.filters)
        self.z = np.empty(self.output_shape)
        self.z_rows = self.z.reshape(-1, kernel.filters)
        self.source_size = batch * self.windows.sample_size
        # one channel: im2col copies a strided view of the zero-padded map into (entries, positions),
        # whose rows run along the output's width (contiguous reads); several channels: one np.take
        self.strided = self.channels == 1
        if self.strided:
            self._prepare_strided_windows(batch)
        else:
            self.index = self.windows.batched(batch)
            self.columns = np.empty(self.index.shape)
            self.source = np.zeros(self.source_size)  # the input and its padding zero, when copied
            self.interior = self.source.reshape(batch, -1)[:, :self.windows.size]
            self.copies_input = self.windows.padded
        self.weight_key, self.bias_key = kernel.keys["weight"], kernel.keys.get("bias")
        # a shared kernel run on every channel (not factored): its weight repeats along the channels
        self.repeated_kernel = kernel.shared and not factored
        self.ones = np.ones(len(self.z_rows))
        self.transposed_pass = None
        if kernel.needs_input_gradient:
            self._prepare_gradient_buffer()

    def _prepare_strided_windows(self, batch):
        _, height, width = self.kernel.input_shape
        (kh, kw), (sh, sw), (ph, pw) = self.kernel.kernel_size, self.kernel.stride, self.kernel.padding
        out_h, out_w = self.kernel.output_grid
        self.padded_map = np.zeros((batch, height + 2 * ph, width + 2 * pw))
        self.summed = self.padded_map[:, ph:ph + height, pw:pw + width]  # the input (summed over channels)
        stride_n, stride_r, stride_c = self.padded_map.strides
        # window_view[u, v, n, i, j] = padded[n, s i + u, s j + v], a view (nothing copied)
        self.window_view = np.lib.stride_tricks.as_strided(
            self.padded_map, (kh, kw, batch, out_h, out_w),
            (stride_r, stride_c, stride_n, sh * stride_r, sw * stride_c), writeable=False)
        self.columns_by_entry = np.empty((kh * kw, batch * out_h * out_w))
        self.window_columns = self.columns_by_entry.reshape(self.window_view.shape)
        self.columns = self.columns_by_entry.T  # (positions, entries), as the take path gives
        # an unpadded input that is the same buffer call after call (the previous layer's) is viewed directly
        self.views_input = ph == pw == 0 and not self.factored
        self.viewed_input = self.previous_input = self.input_view = None

    def _input_windows(self, x):
        """The window view to copy im2col from: of ``x`` itself once it is the same buffer twice in a row,
        else of the padded copy made here."""
        if x is self.viewed_input:
            return self.input_view
        np.copyto(self.summed, x[..., 0])
        if self.views_input and x is self.previous_input and x.flags.c_contiguous:
            stride_n, stride_r, stride_c, _ = x.strides
            (sh, sw) = self.kernel.stride
            self.viewed_input = x
            self.input_view = np.lib.stride_tricks.as_strided(
                x, self.window_view.shape, (stride_r, stride_c, stride_n, sh * stride_r, sw * stride_c),
                writeable=False)
        self.previous_input = x
        return self.window_view

    def _kernel_matrix(self, weight):
        filters = weight.shape[0]
        if self.repeated_kernel:  # one kernel per filter, repeated along the channels
            weight = np.broadcast_to(weight, (filters, self.channels, *self.kernel.kernel_size))
        return weight.reshape(filters, -1)

    def forward(self, x, params):
        if self.strided:
            if self.factored:  # sum_c x[c, ...]: the weight is a common factor over c
                self._sum_channels(x)
                windows = self.window_view
            else:
                windows = self._input_windows(x)
            np.copyto(self.window_columns, windows)
        else:
            if self.copies_input or not x.flags.c_contiguous:
                np.copyto(self.interior, x.reshape(self.batch, -1))
                flat = self.source
            else:
                flat = x.reshape(-1)
            np.take(flat, self.index, out=self.columns, mode="clip")
        weight = params[self.weight_key]
        np.matmul(self.columns, self._kernel_matrix(weight).T, out=self.z_rows)
        if self.bias_key is not None:
            np.add(self.z_rows, params[self.bias_key], out=self.z_rows)
        return self.z, self.columns

    def _sum_channels(self, x):
        """sum_c x[..., c] into :attr:`summed`, channel by channel (NumPy's reduction over a short
        last axis is many times slower than these additions)."""
        channels = x.shape[3]
        if channels == 1:
            np.copyto(self.summed, x[..., 0])
            return
        np.add(x[..., 0], x[..., 1], out=self.summed)
        for c in range(2, channels):
            np.add(self.summed, x[..., c], out=self.summed)

    def backward(self, dz, columns, params, gradients):
        filters = self.kernel.filters
        weight = params[self.weight_key]
        dz_rows = dz.reshape(-1, filters)
        # dL/dw[f,c,u,v] = sum over positions of dL/dz[f,i,j] * x[c, s i + u, s j + v]
        target = gradient_target(gradients, self.weight_key, weight.shape)
        if self.repeated_kernel:  # a shared weight's gradient sums over its channels
            per_channel = (dz_rows.T @ columns).reshape(filters, self.channels, -1)
            np.sum(per_channel, axis=1, out=target.reshape(filters, -1))
        else:
            np.matmul(dz_rows.T, columns, out=target.reshape(filters, -1))
        if self.bias_key is not None:  # sum over positions as a product with ones (np.sum along axis 0 of a
            # (positions, filters) array runs one short inner loop per row: ten times slower)
            np.matmul(self.ones, dz_rows, out=gradient_target(gradients, self.bias_key, (filters,)))
        if not self.kernel.needs_input_gradient:
            return None
        # dL/dx[c,r,q] = sum over the windows holding x[c,r,q] of dL/dz * w at that entry
        if self.transposed_pass is None:
            self.prepare_transposed_pass()
        dx = self._transposed(self.transposed_pass, dz_rows, weight)
        if self.factored:  # d(sum_c x_c)/dx_c = 1: every channel gets the summed map's gradient
            return np.broadcast_to(dx, (*dx.shape[:3], self.kernel.input_shape[0]))
        return dx

    # -- the transposed pass -----------------------------------------------------------------
    def _prepare_gradient_buffer(self):
        self.dz_source = np.zeros(self.z.size + 1)  # dL/dz and one zero
        #: where the activation writes dL/dz, so that the gather pass reads it without a copy
        self.gradient_buffer = self.dz_source[:-1].reshape(self.output_shape)

    def prepare_transposed_pass(self, transposed_pass=None):
        """The cheaper pass (or ``transposed_pass``) and only its buffers, on the first backward call (a
        forward-only stage, as for predicting a large batch, never makes them)."""
        _, height, width = self.kernel.input_shape
        kh, kw = self.kernel.kernel_size
        self.transposed_pass = transposed_pass or self._cheaper_transposed_pass()
        self.dx = np.empty((self.batch, height, width, self.channels))
        if self.transposed_pass == "bincount":
            self.window_gradient = np.empty(self.columns.shape)
            self.scatter_index = (self.windows.batched(self.batch) if self.index is None else self.index).reshape(-1)
        else:
            (ph, pw) = self.kernel.padding
            self.strided_transpose = self.channels == 1 and self.kernel.stride == (1, 1) and ph < kh and pw < kw
            if self.strided_transpose:
                self._prepare_strided_transpose()
            else:
                self.inverse = self.windows.transposed(self.batch, self.kernel.filters)
                self.transposed_columns = np.empty(self.inverse.shape)
            self.flipped = np.empty((self.kernel.filters * kh * kw, self.channels))

    def _prepare_strided_transpose(self):
        """One channel, stride 1: dL/dz zero-padded by kernel - 1 - padding, read with the kernel flipped
        (negative strides), is a view holding every input position's window; copying it is the transposed
        pass's im2col without an index (as the forward pass's strided copy)."""
        _, height, width = self.kernel.input_shape
        (kh, kw), (ph, pw) = self.kernel.kernel_size, self.kernel.padding
        (out_h, out_w), filters = self.kernel.output_grid, self.kernel.filters
        top, left = kh - 1 - ph, kw - 1 - pw
        self.dz_padded = np.zeros((self.batch, out_h + 2 * top, out_w + 2 * left, filters))
        self.dz_interior = self.dz_padded[:, top:top + out_h, left:left + out_w, :]
        corner = self.dz_padded[:, kh - 1:, kw - 1:, :]
        stride_n, stride_r, stride_c, stride_f = self.dz_padded.strides
        # flipped_view[f, u, v, n, r, q] = padded dL/dz[n, kh - 1 + r - u, kw - 1 + q - v, f]
        #                                = dL/dz[n, r + ph - u, q + pw - v, f] (zero outside)
        self.flipped_view = np.lib.stride_tricks.as_strided(
            corner, (filters, kh, kw, self.batch, height, width),
            (stride_f, -stride_r, -stride_c, stride_n, stride_r, stride_c), writeable=False)
        self.transposed_by_entry = np.empty((filters * kh * kw, self.batch * height * width))
        self.transposed_entries = self.transposed_by_entry.reshape(self.flipped_view.shape)

    def _cheaper_transposed_pass(self):
        """The pass with the smaller estimated cost, by a fixed rule (so that two builds of a network
        round alike). Calibrated on one core: writing and bincounting a window-gradient entry costs
        about 3 ns, copying and gathering an entry through the inverse index about 1 ns, a matmul
        about 0.1 ns per multiply-add."""
        filters, (kh, kw) = self.kernel.filters, self.kernel.kernel_size
        _, height, width = self.kernel.input_shape
        window_entries = self.columns.size  # (batch positions) x (c kh kw)
        gathered = self.batch * height * width * filters * kh * kw  # (batch H W) x (f kh kw)
        bincount = 3.0 * window_entries + 0.1 * window_entries * filters
        gather = gathered * (1.0 + 0.1 * self.channels)
        return "bincount" if bincount <= gather else "gather"

    def _transposed(self, name, dz_rows, weight):
        """dL/dx (batch, H, W, channels) from dL/dz rows, by ``name``: "bincount" or "gather"."""
        if name == "bincount":
            np.matmul(dz_rows, self._kernel_matrix(weight), out=self.window_gradient)
            sums = np.bincount(self.scatter_index, weights=self.window_gradient.reshape(-1),
                               minlength=self.source_size)
            return sums.reshape(self.batch, -1)[:, :self.windows.size].reshape(self.dx.shape)
        if self.strided_transpose:  # one channel: dx[n, r, q] = sum over (f, u, v) of w[f, 0, u, v] * window
            np.copyto(self.dz_interior, dz_rows.reshape(self.output_shape))
            np.copyto(self.transposed_entries, self.flipped_view)
            np.matmul(weight.reshape(1, -1), self.transposed_by_entry, out=self.dx.reshape(1, -1))
            return self.dx
        if dz_rows.base is not self.dz_source:  # the activation wrote dL/dz elsewhere
            np.copyto(self.dz_source[:-1].reshape(dz_rows.shape), dz_rows)
        np.take(self.dz_source, self.inverse, out=self.transposed_columns, mode="clip")
        filters, (kh, kw) = weight.shape[0], self.kernel.kernel_size
        if self.channels == 1 and weight.shape[1] == 1:  # [f u v, c] = w[f, 0, u, v]: a view
            flipped = weight.reshape(-1, 1)
        else:
            flipped = self.flipped
            np.copyto(flipped.reshape(filters, kh, kw, self.channels),  # [f, u, v, c] = w[f, c, u, v]
                      np.broadcast_to(weight, (filters, self.channels, kh, kw)).transpose(0, 2, 3, 1))
        np.matmul(self.transposed_columns, flipped, out=self.dx.reshape(-1, self.channels))
        return self.dx
