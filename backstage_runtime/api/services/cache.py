"""``core.cache``: a per-plugin key-value cache."""

from __future__ import annotations

from typing import Protocol

from ._json import JsonValue

__all__ = ["CacheService"]


class CacheService(Protocol):
    """A cache namespaced to one plugin; values are JSON-serialisable, ``ttl`` in milliseconds."""

    async def get(self, key: str) -> JsonValue | None:
        """The value at ``key``, or None on a miss."""

    async def set(self, key: str, value: JsonValue, *, ttl: float | None = None) -> None:
        """Store ``value`` at ``key`` for ``ttl`` milliseconds (default: the store's TTL)."""

    async def delete(self, key: str) -> None:
        """Remove ``key``."""

    def with_options(self, *, default_ttl: float | None = None) -> CacheService:
        """A cache over the same namespace with other defaults."""
