"""symcnn: convolutional networks as named sympy expressions, differentiated like on paper, run fast.

>>> import symcnn as sc
>>> net = sc.presets.network_a()
>>> net.params["conv1.weight"].shape
(1, 1, 3, 3)
"""

from . import data, display, inspect, presets
from .codegen import export
from .layers import AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D
from .network import Network, load
from .version import __version__

__all__ = ["AvgPool2D", "Conv2D", "Dense", "Flatten", "MaxPool2D", "Network", "data", "display", "export", "inspect", "load",
           "presets", "__version__"]
