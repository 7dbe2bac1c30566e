"""A griffe extension: dunders that tell a caller nothing stay off the site.

The ``public`` filter shows every member not marked private, dunders included; a context
manager's ``__aenter__`` or a protocol's ``__call__`` is part of the API, an exception's
``__cause__`` annotation or a class's ``__test__ = False`` (for pytest) is not. They are dropped
from the loaded model rather than marked private: the site shows most names through the aliases
of ``backstage_runtime``, and an alias's members do not see such marks.
"""

from __future__ import annotations

from typing import Any

import griffe

HIDDEN = frozenset({"__cause__", "__eq__", "__hash__", "__slots__", "__str__", "__test__"})


class HiddenMembers(griffe.Extension):
    """Drops the members named in :data:`HIDDEN`, wherever they are defined."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        """Walk ``pkg`` once it is loaded."""
        _drop(pkg)


def _drop(obj: griffe.Object) -> None:
    for name, member in list(obj.members.items()):
        if member.is_alias:
            continue
        if name in HIDDEN:
            del obj.members[name]
        else:
            _drop(member)  # type: ignore[arg-type]
