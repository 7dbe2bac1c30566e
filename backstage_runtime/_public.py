"""Showing the classes and functions of the public API as members of :mod:`backstage_runtime`.

They are defined in private modules (``backstage_runtime.api._features``, ...), but users should
see, pickle and document them under the name they import them by: ``repr()``, tracebacks,
``pickle`` and Sphinx's autodoc all read ``__module__``. httpx and trio do the same for their
names, and pay the same price: ``inspect.getsource`` of a published *class* looks for it in
``backstage_runtime/__init__.py`` and fails (functions keep their code's file, so theirs works).
"""

from __future__ import annotations

import inspect
import sys
import types
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["publish", "publish_all", "publish_lazy_module"]

#: The package whose members the public names are: ``backstage_runtime``.
_PUBLIC_PACKAGE = __name__.partition(".")[0]


def publish(value: object, public_module: str) -> None:
    """Make ``public_module`` the ``__module__`` of ``value`` when it is a class or function
    defined in one of that package's private modules; anything else is left as it is.
    """
    if not isinstance(value, type | types.FunctionType):
        return
    home = getattr(value, "__module__", None)
    if not isinstance(home, str) or not home.startswith(public_module + "."):
        return  # third-party, builtin, or already published
    if isinstance(value, type):
        _resolve_own_annotations(value, home)
    value.__module__ = public_module


def publish_all(namespace: Mapping[str, object], names: Iterable[str], public_module: str) -> None:
    """:func:`publish` every one of ``names`` found in ``namespace`` (names loaded lazily are
    published when they are first loaded).
    """
    for name in names:
        if name in namespace:
            publish(namespace[name], public_module)


def publish_lazy_module(namespace: Mapping[str, object]) -> None:
    """:func:`publish_all` of a plugin-API module's ``__all__``, called at the end of a module
    that the package root loads on first use: its names then carry the public module however
    the module was first imported (by the root, or directly by an implementation).
    """
    names = namespace["__all__"]
    assert isinstance(names, list | tuple)
    publish_all(namespace, names, _PUBLIC_PACKAGE)


def _resolve_own_annotations(cls: type, home: str) -> None:
    # Our modules use ``from __future__ import annotations``, so annotations are strings, and
    # ``typing.get_type_hints(cls)`` evaluates them in ``sys.modules[cls.__module__]``. Once
    # ``__module__`` names the public package, names such as ``Mapping`` or ``Any`` would no longer
    # resolve there; evaluating them now, in the module that wrote them, keeps get_type_hints (and
    # dataclass-aware tools such as pydantic or Sphinx) working.
    own = inspect.get_annotations(cls)
    module = sys.modules.get(home)
    if not own or module is None:
        return
    global_ns = vars(module)
    local_ns = dict(vars(cls))
    cls.__annotations__ = {
        key: _evaluated(annotation, global_ns, local_ns) for key, annotation in own.items()
    }


def _evaluated(annotation: object, global_ns: dict[str, Any], local_ns: dict[str, Any]) -> object:
    if not isinstance(annotation, str):
        return annotation
    try:
        return eval(annotation, global_ns, local_ns)
    except Exception:
        # A name imported only under TYPE_CHECKING: it stays a string, which get_type_hints
        # could not have resolved before publishing either.
        return annotation
