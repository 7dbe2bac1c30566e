"""The ``backstage-runtime`` command line: ``serve``, ``plugins`` and ``config``."""

from ._main import main

__all__ = ["main"]
