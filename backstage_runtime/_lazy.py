"""Package attributes that load their module on first use (PEP 562).

A backend imports every default service package to get its factory, but builds only the
services something depends on. The packages therefore import their factory builder (cheap)
eagerly and everything else (the manager over SQLAlchemy, the Redis store, the URL reader
providers...) when a caller first asks for the name, as :mod:`backstage_runtime` does for the
runtime.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` for ``package``.

    ``exports`` maps each lazily loaded name to the module (relative to ``package``) defining
    it. The first access imports that module and stores the value on the package, so later
    accesses are plain attribute lookups. An unknown name raises :class:`AttributeError`
    naming the package, as a normal module does.
    """

    def __getattr__(name: str) -> Any:
        module_name = exports.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_name, package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return __getattr__, __dir__
