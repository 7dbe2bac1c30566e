"""The default ``core.logger`` service factory."""

from __future__ import annotations

from ...api import (
    LoggerService,
    PluginMetadataService,
    RootLoggerService,
    ServiceFactory,
    core_services,
    create_service_factory,
)

__all__ = ["logger_service_factory"]


def logger_service_factory() -> ServiceFactory[LoggerService]:
    """The default ``core.logger`` factory: ``root_logger.child({"plugin": <pluginId>})``.

    So every plugin's entries carry ``plugin`` beside the root's ``service: "backstage"``, and
    share the root's level, overrides, redactions and output.
    """

    def factory(
        *, root_logger: RootLoggerService, plugin_metadata: PluginMetadataService
    ) -> LoggerService:
        return root_logger.child({"plugin": plugin_metadata.get_id()})

    return create_service_factory(
        service=core_services.logger,
        deps={
            "root_logger": core_services.root_logger,
            "plugin_metadata": core_services.plugin_metadata,
        },
        factory=factory,
    )
