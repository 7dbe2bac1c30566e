"""The default ``core.cache`` service: a per-plugin cache over memory, Redis/Valkey or memcached.

Configured by ``backend.cache`` as in Backstage; stored keys and values use Backstage's (Keyv's)
layout, so a Node Backstage backend sharing the Redis reads what this one writes and vice versa.
"""

from ._client import PluginCache
from ._codec import CacheEntry, KeyvJsonSerializer
from ._config import CacheSettings, read_cache_settings
from ._factory import cache_service_factory
from ._guard import CacheMetrics
from ._keys import normalize_key
from ._manager import CacheManager

__all__ = [
    "CacheEntry",
    "CacheManager",
    "CacheMetrics",
    "CacheSettings",
    "KeyvJsonSerializer",
    "PluginCache",
    "cache_service_factory",
    "normalize_key",
    "read_cache_settings",
]
