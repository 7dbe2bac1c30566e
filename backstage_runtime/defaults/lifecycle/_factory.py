"""The default ``core.rootLifecycle`` and ``core.lifecycle`` factory builders."""

from __future__ import annotations

from ...api import (
    Config,
    LoggerService,
    PluginMetadataService,
    ServiceFactory,
    core_services,
    create_service_factory,
)
from ...api.services.lifecycle import (
    LifecycleService,
    RootLifecycleService,
    read_shutdown_hook_timeout,
)
from ._lifecycle import PluginLifecycle, RootLifecycle

__all__ = ["root_lifecycle_service_factory", "lifecycle_service_factory"]


def root_lifecycle_service_factory() -> ServiceFactory[RootLifecycleService]:
    """The default ``core.rootLifecycle`` factory."""

    def factory(*, config: Config, logger: LoggerService) -> RootLifecycle:
        timeout = read_shutdown_hook_timeout(config)
        return RootLifecycle(logger.child({"type": "rootLifecycle"}), timeout)

    return create_service_factory(
        service=core_services.root_lifecycle,
        deps={"config": core_services.root_config, "logger": core_services.root_logger},
        factory=factory,
    )


def lifecycle_service_factory() -> ServiceFactory[LifecycleService]:
    """The default ``core.lifecycle`` factory (one per plugin)."""

    def factory(
        *, config: Config, logger: LoggerService, plugin_metadata: PluginMetadataService
    ) -> PluginLifecycle:
        return PluginLifecycle(plugin_metadata.get_id(), logger, read_shutdown_hook_timeout(config))

    return create_service_factory(
        service=core_services.lifecycle,
        deps={
            "config": core_services.root_config,
            "logger": core_services.logger,
            "plugin_metadata": core_services.plugin_metadata,
        },
        factory=factory,
    )
