"""``DatabaseManager``: builds, caches and finally disposes every plugin's engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio

from ...api import Config, LoggerService
from ...api.services.telemetry import TelemetryService
from ._config import read_plugin_settings
from ._plugin_database import PluginDatabase
from ._section import DATABASE_CONFIG_KEY
from ._settings import PgSettings, PluginDatabaseSettings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from ._provisioning import DatabaseProvisioner
    from ._telemetry import DatabaseTelemetry

__all__ = ["DatabaseManager", "DatabaseShutDownError"]


class DatabaseShutDownError(RuntimeError):
    """A plugin asked for its engine after the backend disposed every engine."""


class DatabaseManager:
    """The root context of the database service: one engine per plugin, created on demand.

    ``section`` is the ``backend.database`` config (None when absent: every plugin then gets a
    private in-memory SQLite database). :meth:`dispose` closes every engine; the service factory
    runs it as a root shutdown hook, after every plugin has shut down.
    """

    def __init__(
        self,
        section: Config | None,
        *,
        logger: LoggerService,
        skip_migrations: bool | None = None,
        telemetry: TelemetryService | None = None,
    ) -> None:
        self._section = section
        # Only a recording telemetry instruments engines (SQLAlchemy hooks, loaded with them).
        self._recording = (
            telemetry
            if telemetry is not None and (telemetry.metrics_enabled or telemetry.tracing_enabled)
            else None
        )
        self._instrumentation: DatabaseTelemetry | None = None
        self._logger = logger
        self._skip_migrations = skip_migrations
        self._engines: dict[str, AsyncEngine] = {}
        self._locks: dict[str, anyio.Lock] = {}
        self._provisioner: DatabaseProvisioner | None = None
        self._closed = False

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        logger: LoggerService,
        skip_migrations: bool | None = None,
        telemetry: TelemetryService | None = None,
    ) -> DatabaseManager:
        """A manager over ``backend.database`` of the root ``config``; with ``telemetry``
        recording, every engine's statements get spans and metrics."""
        return cls(
            config.get_optional_config(DATABASE_CONFIG_KEY),
            logger=logger,
            skip_migrations=skip_migrations,
            telemetry=telemetry,
        )

    def for_plugin(self, plugin_id: str, *, logger: LoggerService | None = None) -> PluginDatabase:
        """The database of ``plugin_id``. Its configuration is validated now, so mistakes fail
        the plugin's start (:class:`ConfigError` naming the key); nothing connects yet.
        """
        settings = read_plugin_settings(
            self._section, plugin_id, skip_migrations=self._skip_migrations
        )
        plugin_logger = logger or self._logger.child({"plugin": plugin_id})
        if settings.ignored_keys:
            plugin_logger.warn(
                "Ignoring database settings that have no SQLAlchemy counterpart",
                {"keys": list(settings.ignored_keys)},
            )

        async def engine() -> AsyncEngine:
            return await self._engine(settings)

        return PluginDatabase(
            settings,
            engine,
            plugin_logger,
            migration_engine=_migration_engine(settings, self._telemetry),
        )

    def _telemetry(self) -> DatabaseTelemetry | None:
        """The engines' instrumentation, built with the first engine (None when not recording)."""
        if self._recording is not None and self._instrumentation is None:
            from ._telemetry import DatabaseTelemetry

            self._instrumentation = DatabaseTelemetry(self._recording)
        return self._instrumentation

    async def dispose(self) -> None:
        """Close every engine (idempotent); later :meth:`PluginDatabase.get_client` calls fail."""
        self._closed = True
        engines, self._engines = list(self._engines.items()), {}
        async with anyio.create_task_group() as group:
            for plugin_id, engine in engines:
                group.start_soon(self._dispose_one, plugin_id, engine)

    async def _dispose_one(self, plugin_id: str, engine: AsyncEngine) -> None:
        try:
            await engine.dispose()
        except Exception as error:
            self._logger.error(f"Failed to close the database of plugin '{plugin_id}'", error)

    async def _engine(self, settings: PluginDatabaseSettings) -> AsyncEngine:
        plugin_id = settings.plugin_id
        lock = self._locks.get(plugin_id)
        if lock is None:
            lock = self._locks[plugin_id] = anyio.Lock()
        async with lock:
            if self._closed:
                raise _closed_error(plugin_id)
            engine = self._engines.get(plugin_id)
            if engine is None:
                engine = await self._create(settings)
                if self._closed:
                    # dispose() ran while this engine was being created: it missed this one.
                    await engine.dispose()
                    raise _closed_error(plugin_id)
                self._engines[plugin_id] = engine
            return engine

    async def _create(self, settings: PluginDatabaseSettings) -> AsyncEngine:
        # The engine modules (SQLAlchemy and a driver) load with the first engine: a plugin may
        # depend on core.database (core.auth does) and never connect.
        from ._engines import create_plugin_engine
        from ._provisioning import DatabaseProvisioner

        provisioner = self._provisioner
        if provisioner is None:
            provisioner = self._provisioner = DatabaseProvisioner()
        telemetry = self._telemetry()
        return await create_plugin_engine(
            settings,
            provisioner,
            instrument=None if telemetry is None else telemetry.instrument,
        )


def _migration_engine(
    settings: PluginDatabaseSettings, telemetry: Callable[[], DatabaseTelemetry | None]
) -> Callable[[], AsyncEngine] | None:
    """PostgreSQL migrations run on an engine of their own, without the statement timeout."""
    target = settings.target
    if not isinstance(target, PgSettings):
        return None  # MySQL has no statement timeout; SQLite in memory lives in one connection

    def create() -> AsyncEngine:
        from ._engines import create_migration_engine

        engine = create_migration_engine(target, settings)
        instrumentation = telemetry()
        if instrumentation is not None:
            # Spans only: its pool is short-lived and not the plugin's.
            instrumentation.instrument(engine, settings.plugin_id, pool=False)
        return engine

    return create


def _closed_error(plugin_id: str) -> DatabaseShutDownError:
    return DatabaseShutDownError(
        f"The database of plugin '{plugin_id}' is closed: the backend has stopped"
    )
