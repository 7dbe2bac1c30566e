"""Names shared by the runtime's modules: the root owner, and type-erased factories and refs."""

from __future__ import annotations

from typing import Any

from ..api import ServiceFactory, ServiceRef, core_services

__all__ = ["PLUGIN_METADATA_ID", "ROOT_PLUGIN_ID", "ErasedFactory", "ErasedRef"]

#: The owner named in messages about root-level instances, and the id root's metadata reports.
ROOT_PLUGIN_ID = "root"

#: Synthesised per plugin by the runtime; never built from a factory.
PLUGIN_METADATA_ID = core_services.plugin_metadata.id

# The runtime holds the factories and refs of every service side by side, their service types
# erased. ``ServiceRef[T]`` and ``ServiceFactory[T]`` are invariant in ``T``, so a
# ``ServiceFactory[Cache]`` is not a ``ServiceFactory[object]``: ``Any`` is the one type argument
# that admits them all. These two aliases are the only places the runtime spells it for that;
# typed access goes through ``ServiceResolver.get(ref: ServiceRef[T]) -> T``.
ErasedFactory = ServiceFactory[Any]
ErasedRef = ServiceRef[Any]
