"""A hand-written NumPy training step (im2col + matmul) of any symcnn network: the benchmark's floor.

Written independently of symcnn's evaluator: it reads only the network's layer descriptions,
its loss name and its parameters, and runs forward, backward and an SGD update the way a careful
person writes them in NumPy. Gather indices are computed once per (batch size, layer), buffers
are allocated once, every convolution and dense layer is one matmul over the whole batch forward and
one per gradient, and all parameters live in one flat buffer updated by one in-place axpy. Inside the step
feature maps are (C, N, H, W), so that a convolution of the whole batch is one matmul.

>>> import numpy as np, symcnn as sc
>>> net = sc.presets.network_a()
>>> step = NumpyStep(net)
>>> x, y = np.zeros((1, 1, 27, 27)), np.ones((1, 1))
>>> bool(np.isclose(step.loss_and_gradients(x, y)[0], net.loss(x, y), rtol=1e-12))
True
"""

from __future__ import annotations

import time

import numpy as np

#: (activation of z, its derivative from a and z) for the hidden layers' built-in activations.
ACTIVATIONS = {
    None: (lambda z: z, lambda a, z: np.ones_like(z)),
    "identity": (lambda z: z, lambda a, z: np.ones_like(z)),
    "sigmoid": (lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)), lambda a, z: a * (1.0 - a)),
    "relu": (lambda z: np.maximum(z, 0.0), lambda a, z: (z > 0).astype(z.dtype)),  # relu'(0) = 0
    "tanh": (np.tanh, lambda a, z: 1.0 - a * a),
}


def _softmax(z):
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _window_index(maps, batch, height, width, kernel, stride, out_h, out_w):
    """(maps kh kw, batch out_h out_w) flat indices into a (maps, batch, height, width) array:
    row (c, u, v), column (n, i, j) reads x[c, n, s_h i + u, s_w j + v]."""
    (kh, kw), (sh, sw) = kernel, stride
    c, u, v = np.meshgrid(np.arange(maps), np.arange(kh), np.arange(kw), indexing="ij")
    n, i, j = np.meshgrid(np.arange(batch), np.arange(out_h), np.arange(out_w), indexing="ij")
    rows = (c * batch * height * width + u * width + v).reshape(-1, 1)
    columns = (n * height * width + sh * i * width + sw * j).reshape(1, -1)
    return rows + columns


class _Conv:
    """z = W cols (+ b): one matmul over the whole batch, cols the (C kh kw, N P) im2col of the
    zero-padded input, copied from a strided view. The transposed pass (W^T dz back onto the input)
    is one ``np.bincount`` through the gather index or kh kw shifted adds, whichever ``transposed_pass``
    names; None measures both once and keeps the faster."""

    def __init__(self, layer, input_shape, output_shape, batch, needs_input_gradient, transposed_pass=None):
        self.layer = layer
        channels, height, width = input_shape
        (ph, pw), (kh, kw), (sh, sw) = layer.padding, layer.kernel_size, layer.stride
        self.padded = np.zeros((channels, batch, height + 2 * ph, width + 2 * pw))
        self.crop = (slice(None), slice(None), slice(ph, ph + height), slice(pw, pw + width))
        filters, out_h, out_w = output_shape
        stride_c, stride_n, stride_h, stride_w = self.padded.strides
        # windows[c, u, v, n, i, j] = padded[c, n, sh i + u, sw j + v], a view (nothing copied)
        self.windows = np.lib.stride_tricks.as_strided(
            self.padded, (channels, kh, kw, batch, out_h, out_w),
            (stride_c, stride_h, stride_w, stride_n, sh * stride_h, sw * stride_w), writeable=False)
        self.cols, self.dcols = np.empty((channels * kh * kw, batch * out_h * out_w)), None
        self.z = np.empty((filters, batch * out_h * out_w))
        self.output_shape, self.channels = (filters, batch, out_h, out_w), channels
        self.shifts = [(u, v, (slice(None), slice(None), slice(u, u + sh * (out_h - 1) + 1, sh),
                               slice(v, v + sw * (out_w - 1) + 1, sw))) for u in range(kh) for v in range(kw)]
        if needs_input_gradient:
            self.scatter = _window_index(channels, batch, *self.padded.shape[2:], layer.kernel_size, layer.stride,
                                         out_h, out_w).reshape(-1)
            self.dcols = np.zeros(self.cols.shape)  # zeros, not empty: the timing below adds it up
            self.transposed_pass = transposed_pass or self._faster_transposed_pass()

    def _faster_transposed_pass(self):
        timings = {}
        for name in ("bincount", "shifted"):
            started = time.perf_counter()
            for _ in range(3):
                self._scatter(name)
            timings[name] = time.perf_counter() - started
        return min(timings, key=timings.get)

    def _scatter(self, transposed_pass):
        """The input gradient from ``self.dcols``: every gathered entry added back where it was read."""
        if transposed_pass == "bincount":
            gradient = np.bincount(self.scatter, weights=self.dcols.reshape(-1), minlength=self.padded.size)
            return gradient.reshape(self.padded.shape)
        gradient = np.zeros(self.padded.shape)
        dcols = self.dcols.reshape(self.windows.shape)
        for u, v, shifted in self.shifts:
            gradient[shifted] += dcols[:, u, v]
        return gradient

    def matrix(self, weight):
        # a channel-shared kernel is the same kernel for every input channel (not factored here)
        if self.layer.shared_channels:
            weight = np.broadcast_to(weight, (weight.shape[0], self.channels, *weight.shape[2:]))
        return weight.reshape(weight.shape[0], -1)

    def forward(self, x, weight, bias):
        self.padded[self.crop] = x
        np.copyto(self.cols.reshape(self.windows.shape), self.windows)
        np.matmul(self.matrix(weight), self.cols, out=self.z)
        if bias is not None:
            self.z += bias[:, None]
        return self.z.reshape(self.output_shape)

    def backward(self, dz, weight, weight_gradient, bias_gradient, needs_input_gradient):
        dz = dz.reshape(self.z.shape)
        gradient = dz @ self.cols.T  # (F, C kh kw)
        if self.layer.shared_channels:  # the one kernel collects the gradient of every channel
            gradient = gradient.reshape(gradient.shape[0], self.channels, -1).sum(axis=1)
        weight_gradient[...] = gradient.reshape(weight_gradient.shape)
        if bias_gradient is not None:
            bias_gradient[...] = dz.sum(axis=1)
        if not needs_input_gradient:
            return None
        np.matmul(self.matrix(weight).T, dz, out=self.dcols)
        return self._scatter(self.transposed_pass)[self.crop]


class _Pool:
    """Max (first maximum of each window gets the gradient) or average over gathered windows."""

    def __init__(self, layer, input_shape, output_shape, batch, needs_input_gradient):
        self.layer = layer
        channels, height, width = input_shape
        _, out_h, out_w = output_shape
        self.input_shape, self.output_shape = (channels, batch, height, width), (channels, batch, out_h, out_w)
        # every (channel, sample) map alike: (S, P) window indices into one map, then one row per output
        window = _window_index(1, 1, height, width, layer.size, layer.stride, out_h, out_w)
        self.area = window.shape[0]
        self.index = (window.T[None] + height * width * np.arange(channels * batch)[:, None, None]
                      ).reshape(-1, self.area)
        self.windows = np.empty(self.index.shape)
        self.rows = np.arange(self.index.shape[0])
        self.size = channels * batch * height * width

    def forward(self, x, weight=None, bias=None):
        np.take(x.reshape(-1), self.index, out=self.windows)
        if self.layer.mode == "max":
            self.first = np.argmax(self.windows, axis=1)
            z = self.windows[self.rows, self.first]
        else:
            z = self.windows.mean(axis=1)
        return z.reshape(self.output_shape)

    def backward(self, dz, weight, weight_gradient, bias_gradient, needs_input_gradient):
        if self.layer.mode == "max":  # the input index of each window's first maximum
            targets, weights = self.index[self.rows, self.first], dz.reshape(-1)
        else:
            targets, weights = self.index.reshape(-1), np.repeat(dz.reshape(-1) / self.area, self.area)
        return np.bincount(targets, weights=weights, minlength=self.size).reshape(self.input_shape)


class _Dense:
    """z = x W^T (+ b) on (N, D) inputs."""

    def __init__(self, layer, input_shape, output_shape, batch, needs_input_gradient):
        self.z = np.empty((batch, output_shape[0]))

    def forward(self, x, weight, bias):
        self.x = x
        np.matmul(x, weight.T, out=self.z)
        if bias is not None:
            self.z += bias
        return self.z

    def backward(self, dz, weight, weight_gradient, bias_gradient, needs_input_gradient):
        np.matmul(dz.T, self.x, out=weight_gradient)
        if bias_gradient is not None:
            bias_gradient[...] = dz.sum(axis=0)
        return dz @ weight if needs_input_gradient else None


class _Flatten:
    """(C, N, H, W) maps to (N, C H W) rows in PyTorch's channel-major order, and back."""

    def __init__(self, layer, input_shape, output_shape, batch, needs_input_gradient):
        self.sample_shape, self.batch = (batch, *input_shape), batch

    def forward(self, x, weight=None, bias=None):
        return x.reshape(self.batch, -1) if x.ndim == 2 else _swap_samples_and_channels(x).reshape(self.batch, -1)

    def backward(self, dz, weight, weight_gradient, bias_gradient, needs_input_gradient):
        return dz if len(self.sample_shape) == 2 else _swap_samples_and_channels(dz.reshape(self.sample_shape))


def _swap_samples_and_channels(maps):
    """(N, C, H, W) <-> (C, N, H, W), contiguous; the second is every feature map's layout inside the step."""
    return np.ascontiguousarray(maps.transpose(1, 0, 2, 3))


_KERNELS = {"conv": _Conv, "pool": _Pool, "dense": _Dense, "flatten": _Flatten}


def loss_and_logit_gradient(loss, activation, z, targets):
    """(mean loss over the batch, dL/dz) for the last layer's logits ``z`` (N, K).

    bce after a sigmoid: sum_k softplus(z_k) - t_k z_k; bce after a softmax: log(1 - p_k) as
    logsumexp_{j != k} z_j - logsumexp_j z_j (finite for any logits); cross_entropy after a
    softmax: -sum_k t_k log p_k, so dL/dz = p sum_k t_k - t; mse: mean_k (p_k - t_k)^2.

    >>> loss, dz = loss_and_logit_gradient("bce", "sigmoid", np.zeros((1, 1)), np.ones((1, 1)))
    >>> round(loss, 6), dz.tolist()
    (0.693147, [[-0.5]])
    """
    count, classes = z.shape
    if loss == "bce" and activation == "sigmoid":
        per_sample = (np.maximum(z, 0.0) - targets * z + np.log1p(np.exp(-np.abs(z)))).sum(axis=1)
        dz = ACTIVATIONS["sigmoid"][0](z) - targets
    elif loss == "bce" and activation == "softmax":
        log_p = _log_softmax(z)
        # others[n, k, :] = z with z_k removed (-inf): its log-softmax row gives log(1 - p_k) and r_{k,m}
        others = np.where(np.eye(classes, dtype=bool), -np.inf, z[:, None, :])
        top = others.max(axis=2, keepdims=True)
        log_rest = top[..., 0] + np.log(np.exp(others - top).sum(axis=2))
        log_not_p = log_rest - (z[:, :1] - log_p[:, :1])  # logsumexp_{j != k} z_j - logsumexp_j z_j
        per_sample = -(targets * log_p + (1 - targets) * log_not_p).sum(axis=1)
        p, rest = np.exp(log_p), np.exp(others - log_rest[..., None])  # rest[n, k, m] = r_{k,m}, 0 at m = k
        complement = 1.0 - targets
        dz = (p * targets.sum(axis=1, keepdims=True) - targets
              - np.einsum("nk,nkm->nm", complement, rest) + p * complement.sum(axis=1, keepdims=True))
    elif loss == "cross_entropy":
        log_p = _log_softmax(z)
        per_sample = -(targets * log_p).sum(axis=1)
        dz = np.exp(log_p) * targets.sum(axis=1, keepdims=True) - targets
    elif loss == "mse":
        p = _softmax(z) if activation == "softmax" else ACTIVATIONS[activation][0](z)
        per_sample = ((p - targets) ** 2).mean(axis=1)
        dp = 2.0 * (p - targets) / classes
        if activation == "softmax":  # dL/dz_m = p_m (dL/dp_m - sum_k p_k dL/dp_k)
            dz = p * (dp - (p * dp).sum(axis=1, keepdims=True))
        else:
            dz = dp * ACTIVATIONS[activation][1](p, z)
    else:
        raise ValueError(f"the NumPy step knows the losses bce, cross_entropy and mse with built-in "
                         f"activations, not {loss!r} after {activation!r}")
    return float(per_sample.mean()), dz / count


class NumpyStep:
    """A network's training step in plain NumPy, with its own copy of the parameters (one flat buffer).

    >>> import numpy as np, symcnn as sc
    >>> net = sc.presets.network_c()
    >>> step = NumpyStep(net)
    >>> x, y = np.zeros((2, 1, 28, 28)), np.eye(10)[[3, 5]]
    >>> before = step.step(x, y, lr=0.1)
    >>> bool(step.loss_and_gradients(x, y)[0] < before)
    True

    Parameters: ``net`` a :class:`symcnn.Network` of built-in layers, activations and losses
    (bce, cross_entropy, mse); its parameters are copied once, at construction.
    ``transposed_pass`` of every convolution: ``"bincount"``, ``"shifted"`` (kh kw shifted adds)
    or None, which times both once per layer and batch size and keeps the faster.
    """

    def __init__(self, net, transposed_pass=None):
        if transposed_pass not in (None, "bincount", "shifted"):
            raise ValueError(f"transposed_pass must be None, 'bincount' or 'shifted', got {transposed_pass!r}")
        self.transposed_pass = transposed_pass
        self.layers, self.loss_name, self.input_shape = list(net.layers), net.loss_name, net.input_shape
        numbered = [layer for layer in self.layers if layer.kind != "flatten"]
        for layer in numbered:
            if layer.kind != "pool" and not (layer.activation in ACTIVATIONS or
                                             (layer is numbered[-1] and layer.activation == "softmax")):
                raise ValueError(f"the NumPy step knows the activations {', '.join(map(str, ACTIVATIONS))} "
                                 f"(and softmax last), not {layer.activation!r} in {layer.describe()}")
        # the last non-flatten layer gives the logits (a flatten after it only reshapes)
        self.last = max(position for position, layer in enumerate(self.layers) if layer.kind != "flatten")
        self.last_activation = numbered[-1].activation if numbered[-1].kind != "pool" else None
        shapes, keys, number, shape = [], [], 0, tuple(net.input_shape)
        for layer in self.layers:
            output_shape = layer.output_shape(shape)
            shapes.append((shape, output_shape))
            if layer.kind != "flatten":
                number += 1
                keys.append((f"{layer.kind}{number}.weight" if layer.kind != "pool" else None,
                             f"{layer.kind}{number}.bias" if getattr(layer, "bias", False) else None))
            else:
                keys.append((None, None))
            shape = output_shape
        self.shapes, self.keys = shapes, keys
        source = net.params
        sizes = [source[key].size for key in source]
        self.flat, self.flat_gradient = np.empty(sum(sizes)), np.empty(sum(sizes))
        self.params, self.gradients, start = {}, {}, 0
        for key, size in zip(source, sizes):  # views into the two flat buffers
            self.params[key] = self.flat[start:start + size].reshape(source[key].shape)
            self.gradients[key] = self.flat_gradient[start:start + size].reshape(source[key].shape)
            self.params[key][...] = source[key]
            start += size
        self._plans = {}

    def _plan(self, batch):
        """The layer kernels for ``batch`` samples: indices and buffers made once per batch size."""
        if batch not in self._plans:
            options = {"conv": {"transposed_pass": self.transposed_pass}}
            self._plans[batch] = [_KERNELS[layer.kind](layer, shape, output_shape, batch, position > 0,
                                                       **options.get(layer.kind, {}))
                                  for position, (layer, (shape, output_shape)) in
                                  enumerate(zip(self.layers, self.shapes))]
        return self._plans[batch]

    def loss_and_gradients(self, x, targets):
        """(mean loss, {key: gradient}) at the current parameters for a (N, C, H, W) batch and (N, K)
        targets; the gradients are views into one buffer, overwritten by the next call."""
        plan, a, cache, last = self._plan(len(x)), _swap_samples_and_channels(x), [], self.last
        for position, (layer, kernel, (weight_key, bias_key)) in enumerate(zip(self.layers[:last + 1], plan,
                                                                                self.keys)):
            z = kernel.forward(a, self.params.get(weight_key), self.params.get(bias_key))
            if layer.kind in ("conv", "dense") and position != last:
                function, derivative = ACTIVATIONS[layer.activation]
                a = function(z)
                cache.append((z, a, derivative))
            else:
                a = z
                cache.append(None)
        logits = a if a.ndim == 2 else _swap_samples_and_channels(a).reshape(len(x), -1)
        loss, delta = loss_and_logit_gradient(self.loss_name, self.last_activation, logits, targets)
        delta = delta if a.ndim == 2 else _swap_samples_and_channels(delta.reshape(a.shape[1], a.shape[0], *a.shape[2:]))
        for position in range(last, -1, -1):
            layer, kernel, (weight_key, bias_key) = self.layers[position], plan[position], self.keys[position]
            if cache[position] is not None:
                z, a, derivative = cache[position]
                delta = delta * derivative(a, z)
            delta = kernel.backward(delta, self.params.get(weight_key), self.gradients.get(weight_key),
                                    self.gradients.get(bias_key), position > 0)
        return loss, self.gradients

    def step(self, x, targets, lr):
        """One SGD step in place (flat -= lr * flat gradient); returns the loss before it."""
        loss, _ = self.loss_and_gradients(x, targets)
        self.flat -= lr * self.flat_gradient
        return loss
