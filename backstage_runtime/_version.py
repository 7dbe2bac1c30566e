"""The distribution's version, in a module of its own so that any layer may read it without
importing the package root (which pulls in the whole backend).
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
