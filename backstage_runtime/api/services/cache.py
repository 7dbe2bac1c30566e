"""``core.cache``: a per-plugin key-value cache."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Protocol, TypeAlias

from ._json import JsonValue

__all__ = ["CacheService", "CacheTtl"]

#: A time to live: a number of **milliseconds** (Backstage's unit), a :class:`~datetime.timedelta`,
#: or a Backstage ``HumanDuration`` object such as ``{"minutes": 5}``. ``0`` means "no expiry",
#: as in Backstage (Keyv); a negative TTL is a :class:`ValueError`.
CacheTtl: TypeAlias = float | timedelta | Mapping[str, float]


class CacheService(Protocol):
    """A cache namespaced to one plugin; values are JSON-serialisable.

    The cache is best-effort: when the store is unreachable, :meth:`get` returns None (a miss)
    and :meth:`set` / :meth:`delete` do nothing, so callers never need to handle store outages.
    Storing ``None`` is allowed but reads back like a miss.
    """

    async def get(self, key: str) -> JsonValue | None:
        """The value at ``key``, or None on a miss."""

    async def set(self, key: str, value: JsonValue, *, ttl: CacheTtl | None = None) -> None:
        """Store ``value`` at ``key``; it expires after ``ttl`` (default: the cache's TTL).

        TTL precedence: ``ttl`` here, then ``with_options(default_ttl=...)``, then
        ``backend.cache.defaultTtl``; with none of them the entry never expires. Raises
        :class:`TypeError` / :class:`ValueError` for a value that is not JSON.
        """

    async def delete(self, key: str) -> None:
        """Remove ``key``."""

    def with_options(self, *, default_ttl: CacheTtl | None = None) -> CacheService:
        """A cache over the same namespace; ``default_ttl`` (when given) replaces the default."""
