"""The default ``core.cache`` service factory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...api import (
    Config,
    LoggerService,
    PluginMetadataService,
    RootLifecycleService,
    ServiceFactory,
    core_services,
    create_service_factory,
)
from ...api._telemetry import telemetry_service_ref
from ...api.services.cache import CacheService
from ...api.services.telemetry import TelemetryService

if TYPE_CHECKING:
    from ._manager import CacheManager

__all__ = ["cache_service_factory"]


def cache_service_factory() -> ServiceFactory[CacheService]:
    """The default ``core.cache`` factory, configured by ``backend.cache``.

    The :class:`CacheManager` (and so the store's connection pool) is created once per backend,
    the first time a plugin depends on the cache, and closed by a root shutdown hook: those run
    after every plugin has shut down, so plugins may use the cache in their own shutdown hooks.
    """

    def create_root_context(
        *,
        config: Config,
        root_logger: LoggerService,
        root_lifecycle: RootLifecycleService,
        telemetry: TelemetryService,
    ) -> CacheManager:
        # aiocache and the store's client (redis, aiomcache) load when a plugin first asks.
        from ._manager import CacheManager

        manager = CacheManager.from_config(
            config, root_logger.child({"type": "cacheManager"}), telemetry=telemetry
        )
        root_lifecycle.add_shutdown_hook(manager.close)
        return manager

    def factory(
        manager: CacheManager,
        *,
        config: Config,
        root_logger: LoggerService,
        root_lifecycle: RootLifecycleService,
        telemetry: TelemetryService,
        plugin_metadata: PluginMetadataService,
    ) -> CacheService:
        return manager.for_plugin(plugin_metadata.get_id())

    return create_service_factory(
        service=core_services.cache,
        deps={
            "config": core_services.root_config,
            "root_logger": core_services.root_logger,
            "root_lifecycle": core_services.root_lifecycle,
            "telemetry": telemetry_service_ref,
            "plugin_metadata": core_services.plugin_metadata,
        },
        create_root_context=create_root_context,
        factory=factory,
    )
