"""The version of symcnn (what saved files record), in a module of its own that anything may import.

>>> import symcnn
>>> symcnn.__version__ == __version__
True
"""

__version__ = "0.1.0"
