"""The default ``core.cache`` service: a per-plugin cache over memory, Redis/Valkey or memcached.

Configured by ``backend.cache`` as in Backstage; stored keys and values use Backstage's (Keyv's)
layout, so a Node Backstage backend sharing the Redis reads what this one writes and vice versa.
"""

from typing import TYPE_CHECKING

from ..._lazy import lazy_exports
from ._factory import cache_service_factory

# The rest loads on first use (backstage_runtime._lazy): a backend imports this package for its
# factory, and builds the service only when something depends on it.
if TYPE_CHECKING:
    from ._client import PluginCache
    from ._codec import CacheEntry, KeyvJsonSerializer
    from ._config import CacheSettings, read_cache_settings
    from ._guard import CacheMetrics
    from ._keys import normalize_key
    from ._manager import CacheManager
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "PluginCache": "._client",
            "CacheEntry": "._codec",
            "KeyvJsonSerializer": "._codec",
            "CacheSettings": "._config",
            "read_cache_settings": "._config",
            "CacheMetrics": "._guard",
            "normalize_key": "._keys",
            "CacheManager": "._manager",
        },
    )

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
