"""The store interface of the cache service, and the memory store (an aiocache backend)."""

from __future__ import annotations

from typing import Any

from ._codec import CacheEntry

__all__ = ["CacheStore", "as_is"]


def as_is(text: str) -> str:
    """aiocache ``dumps_fn`` for values the service has already encoded."""
    return text


class CacheStore:
    """An aiocache backend holding Keyv-encoded texts; the memory store as it is.

    ``errors`` are the exceptions that mean "the store failed" (caught by the service, never
    raised to plugins); :meth:`is_outage` tells those that mean "unreachable" from per-command
    failures.
    """

    errors: tuple[type[BaseException], ...] = ()

    def __init__(self, name: str, backend: Any) -> None:
        #: ``memory``, ``redis``, ``valkey`` or ``memcache``: the configured store.
        self.name = name
        #: The aiocache backend (``SimpleMemoryCache``, ``RedisCache``, ``MemcachedCache``).
        self.backend = backend

    async def get(self, key: str) -> CacheEntry | None:
        """The entry at the full ``key``, or None."""
        entry: CacheEntry | None = await self.backend.get(key)
        return entry

    async def set(self, key: str, text: str, ttl_ms: int | None) -> None:
        """Store the encoded ``text`` at ``key`` for ``ttl_ms`` milliseconds (None: forever)."""
        # A float TTL in seconds: aiocache passes it on as milliseconds (PSETEX for Redis).
        await self.backend.set(
            key, text, ttl=None if ttl_ms is None else ttl_ms / 1000, dumps_fn=as_is
        )

    async def delete(self, key: str) -> None:
        """Remove ``key``."""
        await self.backend.delete(key)

    def is_outage(self, error: BaseException) -> bool:
        """Whether ``error`` means the store is unreachable (rather than one command failing)."""
        return True

    async def close(self) -> None:
        """Release connections; the memory store has none."""
