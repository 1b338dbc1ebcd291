"""The version of xpnet, in a module of its own: the files it writes record it."""

__version__ = "0.1.0"
