"""``mock_services.database``: in-memory SQLite database services, whatever the config says."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from ..api import (
    RootLifecycleService,
    ServiceFactory,
    core_services,
    create_service_factory,
)
from ..api.services.database import DatabaseService
from ..api.services.logger import LoggerService
from ..defaults.database import DatabaseManager, PluginDatabase
from ._mock_logger import MockRootLogger
from ._service_mock import ServiceMock, build_service_mock

__all__ = ["MockDatabase", "MockPluginDatabase", "mock_database"]


class MockPluginDatabase(PluginDatabase):
    """A plugin database on a private in-memory SQLite; close it with :meth:`aclose` or use it
    as ``async with``."""

    def __init__(self, manager: DatabaseManager, plugin_id: str) -> None:
        database = manager.for_plugin(plugin_id)
        super().__init__(database.settings, database.get_client, _quiet_logger())
        self._manager = manager

    async def aclose(self) -> None:
        """Dispose the engine (idempotent)."""
        await self._manager.dispose()

    async def __aenter__(self) -> MockPluginDatabase:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class MockDatabase:
    """``mock_services.database``: in-memory SQLite databases, whatever the config says.

    For the same service on PostgreSQL or MySQL too, ``await
    test_databases.init_service(database_id, plugin_id=...)`` (:class:`TestDatabases`).
    """

    def __call__(
        self, plugin_id: str = "test", *, skip_migrations: bool = False
    ) -> MockPluginDatabase:
        """A database service for ``plugin_id``; ``async with`` it (or ``await aclose()``)."""
        manager = DatabaseManager(None, logger=_quiet_logger(), skip_migrations=skip_migrations)
        return MockPluginDatabase(manager, plugin_id)

    def factory(self, *, skip_migrations: bool | None = None) -> ServiceFactory[DatabaseService]:
        """A ``core.database`` factory giving each plugin its own in-memory SQLite database,
        ignoring ``backend.database``; the engines are disposed when the backend stops."""

        def create_root_context(
            *, root_logger: LoggerService, root_lifecycle: RootLifecycleService
        ) -> DatabaseManager:
            manager = DatabaseManager(
                None,
                logger=root_logger.child({"type": "database"}),
                skip_migrations=skip_migrations,
            )
            root_lifecycle.add_shutdown_hook(manager.dispose)
            return manager

        def factory(
            manager: DatabaseManager, *, plugin_metadata: Any, logger: LoggerService, **_: object
        ) -> PluginDatabase:
            return manager.for_plugin(plugin_metadata.get_id(), logger=logger)

        return create_service_factory(
            service=core_services.database,
            deps={
                "root_logger": core_services.root_logger,
                "root_lifecycle": core_services.root_lifecycle,
                "plugin_metadata": core_services.plugin_metadata,
                "logger": core_services.logger,
            },
            create_root_context=create_root_context,
            factory=factory,
        )

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.database``: ``get_client`` and the rest record their calls;
        ``skip_migrations`` and ``migrations`` are None unless given.
        """
        return build_service_mock(core_services.database, DatabaseService, implementations)


def _quiet_logger() -> LoggerService:
    return MockRootLogger(level="warn")


#: The mock database service; exposed as ``mock_services.database``.
mock_database = MockDatabase()
