"""The ``backstage-runtime`` command line: ``serve``, ``plugins``, ``graph`` and ``config``."""

from ._main import main

__all__ = ["main"]
