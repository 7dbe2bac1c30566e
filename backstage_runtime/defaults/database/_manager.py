"""``DatabaseManager``: builds, caches and finally disposes every plugin's engine."""

from __future__ import annotations

from collections.abc import Callable

import anyio
from sqlalchemy.ext.asyncio import AsyncEngine

from ...api import Config, LoggerService
from ...api.services.telemetry import TelemetryService
from ._availability import watch_availability
from ._config import read_plugin_settings
from ._mysql import create_mysql_engine
from ._plugin_database import PluginDatabase
from ._postgres import create_pg_engine
from ._provisioning import DatabaseProvisioner
from ._section import DATABASE_CONFIG_KEY
from ._settings import MysqlSettings, PgSettings, PluginDatabaseSettings
from ._sqlite import create_sqlite_engine
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
        self._telemetry = DatabaseTelemetry(telemetry) if telemetry is not None else None
        self._logger = logger
        self._skip_migrations = skip_migrations
        self._engines: dict[str, AsyncEngine] = {}
        self._locks: dict[str, anyio.Lock] = {}
        self._provisioner = DatabaseProvisioner()
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
        target = settings.target
        if isinstance(target, PgSettings):
            if target.ensure_database:
                await self._provisioner.ensure_database(target)
            engine = create_pg_engine(target, settings.pool)
        elif isinstance(target, MysqlSettings):
            if target.ensure_database:
                await self._provisioner.ensure_mysql_database(target)
            engine = create_mysql_engine(target, settings.pool)
        else:
            engine = create_sqlite_engine(target, settings.pool)
        watch_availability(engine, settings.plugin_id)
        if self._telemetry is not None:
            self._telemetry.instrument(engine, settings.plugin_id)
        try:
            if isinstance(target, PgSettings) and target.ensure_schema:
                await self._provisioner.ensure_schema(engine, target, settings.plugin_id)
            await _fill_pool(engine, settings.pool.min_size)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await engine.dispose()
            raise
        return engine


def _migration_engine(
    settings: PluginDatabaseSettings, telemetry: DatabaseTelemetry | None
) -> Callable[[], AsyncEngine] | None:
    """PostgreSQL migrations run on an engine of their own, without the statement timeout."""
    target = settings.target
    if not isinstance(target, PgSettings):
        return None  # MySQL has no statement timeout; SQLite in memory lives in one connection

    def create() -> AsyncEngine:
        engine = create_pg_engine(target, settings.pool, for_migrations=True)
        watch_availability(engine, settings.plugin_id)
        if telemetry is not None:
            # Spans only: its pool is short-lived and not the plugin's.
            telemetry.instrument(engine, settings.plugin_id, pool=False)
        return engine

    return create


def _closed_error(plugin_id: str) -> DatabaseShutDownError:
    return DatabaseShutDownError(
        f"The database of plugin '{plugin_id}' is closed: the backend has stopped"
    )


async def _fill_pool(engine: AsyncEngine, count: int) -> None:
    """Open ``count`` connections at once and return them to the pool (knex's ``pool.min``).

    Raises the first connection error as it is (not wrapped in an exception group).
    """
    if count <= 0:
        return
    release = anyio.Event()
    opened: list[None] = []
    errors: list[Exception] = []

    async def hold() -> None:
        try:
            async with engine.connect():
                opened.append(None)
                if len(opened) == count:
                    release.set()
                await release.wait()
        except Exception as error:
            errors.append(error)
            release.set()

    async with anyio.create_task_group() as group:
        for _ in range(count):
            group.start_soon(hold)
    if errors:
        raise errors[0]
