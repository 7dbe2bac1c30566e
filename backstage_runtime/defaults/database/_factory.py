"""The default ``core.database`` service factory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...api import (
    LoggerService,
    PluginMetadataService,
    RootConfigService,
    RootLifecycleService,
    RootLoggerService,
    ServiceFactory,
    core_services,
    create_service_factory,
)
from ...api._telemetry import telemetry_service_ref
from ...api.services.database import DatabaseService
from ...api.services.telemetry import TelemetryService

if TYPE_CHECKING:
    from ._manager import DatabaseManager
    from ._plugin_database import PluginDatabase

__all__ = ["database_service_factory"]


def database_service_factory(
    *, skip_migrations: bool | None = None
) -> ServiceFactory[DatabaseService]:
    """The default ``core.database`` factory: each plugin gets its own database from
    ``backend.database`` (in-memory SQLite when that section is absent).

    ``skip_migrations`` overrides the ``skipMigrations`` settings for every plugin (Backstage's
    ``DatabaseManager`` option ``migrations.skip``). Engines are disposed by a root shutdown
    hook, so plugins can still use their database in their own shutdown hooks.
    """

    def create_root_context(
        *,
        config: RootConfigService,
        root_logger: RootLoggerService,
        root_lifecycle: RootLifecycleService,
        telemetry: TelemetryService,
    ) -> DatabaseManager:
        # SQLAlchemy loads here, when the first plugin asks for its database.
        from ._manager import DatabaseManager

        manager = DatabaseManager.from_config(
            config,
            logger=root_logger.child({"type": "database"}),
            skip_migrations=skip_migrations,
            telemetry=telemetry,
        )
        root_lifecycle.add_shutdown_hook(manager.dispose)
        return manager

    def factory(
        manager: DatabaseManager,
        *,
        plugin_metadata: PluginMetadataService,
        logger: LoggerService,
        **_root: object,
    ) -> PluginDatabase:
        return manager.for_plugin(plugin_metadata.get_id(), logger=logger)

    return create_service_factory(
        service=core_services.database,
        deps={
            "config": core_services.root_config,
            "root_logger": core_services.root_logger,
            "root_lifecycle": core_services.root_lifecycle,
            "telemetry": telemetry_service_ref,
            "plugin_metadata": core_services.plugin_metadata,
            "logger": core_services.logger,
        },
        create_root_context=create_root_context,
        factory=factory,
    )
