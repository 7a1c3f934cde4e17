"""Layers, one kind per module: each kind's shape rule, symbolic template, per-position
substitution, numeric kernel and rolled indexing side by side.

A layer is described once, by a *template*: the expression of one generic output scalar
in generic symbols (patch inputs xi, kernel weights omega, bias beta, pre-activation
zeta, activation alpha). The template is differentiated once (see
:mod:`symcnn.differentiate`); instantiating it at an output position replaces the generic
symbols by the named scalars of the previous layer and of this layer's parameters.

* :mod:`symcnn.layers.base`: :class:`Layer`, :class:`LayerTemplate`, zeta and alpha, shared checks
* :mod:`symcnn.layers.conv`, :mod:`~symcnn.layers.dense`, :mod:`~symcnn.layers.pool`,
  :mod:`~symcnn.layers.flatten`: one layer kind each
* :mod:`symcnn.layers.windows`: gather and scatter of windows by precomputed index (conv, pool)

>>> conv = Conv2D(1, 2, activation="sigmoid", bias=False)
>>> conv.template((1, 4, 4)).output
Sigmoid(zeta)
"""

from __future__ import annotations

from inspect import signature

from ..activations import check_activation
from .base import ALPHA, INDEX, KERNEL, PATCH, ZETA, Layer, LayerTemplate, RolledIndexing, template_entries
from .conv import Conv2D, ConvKernel
from .dense import Dense, DenseKernel
from .flatten import Flatten, FlattenKernel
from .pool import AvgPool2D, MaxPool2D, Pool2D, PoolKernel
from .windows import WindowIndex

__all__ = ["ALPHA", "INDEX", "KERNEL", "LAYER_TYPES", "PATCH", "ZETA", "AvgPool2D", "Conv2D", "ConvKernel", "Dense",
           "DenseKernel",
           "Flatten", "FlattenKernel", "Layer", "LayerTemplate", "MaxPool2D", "Pool2D", "PoolKernel",
           "RolledIndexing", "WindowIndex", "check_activation", "layer_from_config", "template_entries"]

#: Layer class name -> class, for rebuilding saved networks.
LAYER_TYPES = {layer.__name__: layer for layer in (Conv2D, Dense, MaxPool2D, AvgPool2D, Flatten)}


def layer_from_config(layer_type: str, config: dict) -> Layer:
    """Rebuild a layer from its class name and its :meth:`Layer.config` (validated again).

    >>> layer_from_config("Conv2D", Conv2D(8, 3, padding=1).config()).describe()
    'Conv2D 8x3x3 (padding (1, 1), bias), no activation'

    Parameters: ``layer_type``, a key of :data:`LAYER_TYPES` (``"Conv2D"``, ``"Dense"``,
    ``"MaxPool2D"``, ``"AvgPool2D"``, ``"Flatten"``); ``config``, its constructor
    arguments. Raises ``ValueError`` for an unknown type or unknown arguments.
    """
    if not isinstance(layer_type, str) or layer_type not in LAYER_TYPES:
        raise ValueError(f"unknown layer type {layer_type!r}; expected one of {', '.join(LAYER_TYPES)}")
    if not isinstance(config, dict) or not all(isinstance(key, str) for key in config):
        raise ValueError(f"{layer_type}: config must be a dict of constructor arguments, got {config!r}")
    try:
        signature(LAYER_TYPES[layer_type]).bind(**config)
    except TypeError as error:
        raise ValueError(f"{layer_type}: config {config!r} does not match its constructor ({error})") from None
    return LAYER_TYPES[layer_type](**config)
