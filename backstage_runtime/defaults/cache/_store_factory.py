"""Choosing the store ``backend.cache`` asks for."""

from __future__ import annotations

from aiocache import SimpleMemoryCache  # type: ignore[import-untyped]

from ._codec import KeyvJsonSerializer
from ._config import CacheSettings
from ._memcache_store import MemcacheStore
from ._redis_store import RedisStore
from ._store import CacheStore

__all__ = ["create_store"]


def create_store(settings: CacheSettings) -> CacheStore:
    """The store ``settings`` describe; no connection is opened until the first command."""
    if settings.store == "redis":
        assert settings.redis is not None
        return RedisStore(settings.store_name, settings.redis)
    if settings.store == "memcache":
        assert settings.memcache is not None
        return MemcacheStore(settings.store_name, settings.memcache)
    return CacheStore(
        settings.store_name, SimpleMemoryCache(serializer=KeyvJsonSerializer(), timeout=None)
    )
