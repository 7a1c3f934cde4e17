"""symcnn: convolutional networks as named sympy expressions, differentiated like on paper, run fast.

>>> import symcnn as sc
>>> net = sc.presets.network_a()
>>> net.params["conv1.weight"].shape
(1, 1, 3, 3)

Your own mathematics: an activation from a sympy expression (sympy derives its derivative),
and a loss of one output f(p, t); both train, print by name, export and save.

>>> swish = sc.Activation("swish", lambda z: z * sc.sigmoid(z))
>>> net = sc.Network((1, 5, 5), [sc.Conv2D(2, 3, activation=swish), sc.Flatten(), sc.Dense(1)],
...                  loss=sc.Loss("half_squared", lambda p, t: (p - t) ** 2 / 2))
>>> net.graph.layer_nodes[0].output_at((0, 0, 0))
swish(z__1_0_0_0)
"""

from . import data, display, inspect, presets
from .activations import Activation, elu, gelu, leaky_relu, silu, softplus
from .codegen import export
from .functions import LogSigmoid as log_sigmoid
from .functions import ReLU as relu
from .functions import Sigmoid as sigmoid
from .functions import Step as step
from .layers import AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D
from .losses import Loss, huber
from .network import Network, load
from .version import __version__

__all__ = ["Activation", "AvgPool2D", "Conv2D", "Dense", "Flatten", "Loss", "MaxPool2D", "Network", "__version__", "data",
           "display", "elu", "export", "gelu", "huber", "inspect", "leaky_relu", "load", "log_sigmoid", "presets", "relu",
           "sigmoid", "silu", "softplus", "step"]
