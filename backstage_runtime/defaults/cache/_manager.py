"""``CacheManager``: one store per backend, a namespaced cache per plugin."""

from __future__ import annotations

import time
from collections.abc import Callable

from ...api import Config, LoggerService
from ...api.services.telemetry import TelemetryService
from ._client import PluginCache
from ._config import CacheSettings, read_cache_settings
from ._guard import DEFAULT_RETRY_INTERVAL, DEFAULT_WARNING_INTERVAL, CacheMetrics, StoreGuard
from ._store import CacheStore
from ._store_factory import create_store
from ._telemetry import CacheTelemetry

__all__ = ["CacheManager"]


class CacheManager:
    """Owns the store (one Redis connection pool, or one memory dict) that every plugin's
    :class:`PluginCache` shares, and the guard that keeps store failures away from plugins.

    Backstage creates a Redis client per plugin; one pool per backend serves the same keys with
    fewer connections. :meth:`close` releases it (the default factory calls it at shutdown).
    """

    def __init__(
        self,
        settings: CacheSettings,
        logger: LoggerService,
        *,
        retry_interval: float = DEFAULT_RETRY_INTERVAL,
        warning_interval: float = DEFAULT_WARNING_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        telemetry: TelemetryService | None = None,
    ) -> None:
        self.settings = settings
        self._telemetry = CacheTelemetry.for_backend(telemetry, settings.store_name)
        self._store: CacheStore = create_store(settings)
        self._guard = StoreGuard(
            settings.store_name,
            logger,
            retry_interval=retry_interval,
            warning_interval=warning_interval,
            clock=clock,
        )
        self._closed = False

    @classmethod
    def from_config(
        cls,
        config: Config,
        logger: LoggerService,
        *,
        retry_interval: float = DEFAULT_RETRY_INTERVAL,
        warning_interval: float = DEFAULT_WARNING_INTERVAL,
        telemetry: TelemetryService | None = None,
    ) -> CacheManager:
        """A manager for ``backend.cache``; raises :class:`ConfigError` naming a bad key. With
        ``telemetry`` recording, every plugin's cache calls get spans and metrics."""
        return cls(
            read_cache_settings(config, logger),
            logger,
            retry_interval=retry_interval,
            warning_interval=warning_interval,
            telemetry=telemetry,
        )

    @property
    def store(self) -> CacheStore:
        """The shared store."""
        return self._store

    @property
    def metrics(self) -> CacheMetrics:
        """Counters of store failures, skipped operations, outages and recoveries."""
        return self._guard.metrics

    @property
    def store_available(self) -> bool:
        """False while the store is considered unreachable."""
        return not self._guard.down

    def for_plugin(self, plugin_id: str) -> PluginCache:
        """The cache of ``plugin_id``: its keys never collide with another plugin's."""
        return PluginCache(
            plugin_id=plugin_id,
            prefix=self.settings.plugin_prefix(plugin_id),
            store=self._store,
            guard=self._guard,
            default_ttl_ms=self.settings.default_ttl_ms,
            telemetry=self._telemetry,
        )

    async def close(self) -> None:
        """Close the store's connections; calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        await self._store.close()
