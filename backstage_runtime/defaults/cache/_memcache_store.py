"""memcached behind the cache service: aiocache's ``MemcachedCache`` (needs ``aiomcache``)."""

from __future__ import annotations

import math

from ...api.errors import ConfigError
from ._codec import KeyvJsonSerializer
from ._config import MemcacheSettings
from ._store import CacheStore, as_is

__all__ = ["MemcacheStore"]


class MemcacheStore(CacheStore):
    """memcached through aiocache's ``MemcachedCache`` (needs the ``aiomcache`` package).

    memcached counts TTLs in whole seconds: a TTL is rounded up to the next second.
    """

    def __init__(self, name: str, settings: MemcacheSettings) -> None:
        try:
            import aiomcache  # type: ignore[import-not-found, unused-ignore]
            from aiocache import MemcachedCache  # type: ignore[import-untyped]
        except ImportError:
            raise ConfigError(
                "The cache store 'memcache' at 'backend.cache.store' needs the 'aiomcache' "
                "package: pip install aiomcache"
            ) from None
        self.errors = (aiomcache.exceptions.ClientException, OSError)
        super().__init__(
            name,
            MemcachedCache(
                serializer=KeyvJsonSerializer(),
                endpoint=settings.host,
                port=settings.port,
                timeout=None,
            ),
        )

    async def set(self, key: str, text: str, ttl_ms: int | None) -> None:
        """Store ``text``; the TTL goes to memcached in whole seconds, rounded up."""
        ttl = None if ttl_ms is None else math.ceil(ttl_ms / 1000)
        await self.backend.set(key, text, ttl=ttl, dumps_fn=as_is)

    def is_outage(self, error: BaseException) -> bool:
        """Network errors; an error reply from memcached concerns one command."""
        return isinstance(error, OSError)

    async def close(self) -> None:
        """Close the memcached connections."""
        await self.backend.close()
