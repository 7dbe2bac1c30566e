"""The distribution's version, in a module of its own so that any layer may read it without
importing the package root (which pulls in the whole backend).

It is read from the installed distribution's metadata; importing :mod:`importlib.metadata` costs
about as much as the whole plugin API, so the package root imports this module only when
``backstage_runtime.__version__`` is first asked for.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]


def _installed_version() -> str:
    try:
        return version("backstage-runtime")
    except PackageNotFoundError:
        # Running from a source tree that was never installed: no metadata to read.
        return "0.0.0+unknown"


__version__ = _installed_version()
