"""``PluginDatabase``: the ``core.database`` instance one plugin receives."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from ...api import LoggerService
from ...api.services.database import DatabaseMigrations, DatabaseService
from ._settings import PgSettings, PluginDatabaseSettings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

__all__ = ["PluginDatabase"]


class PluginDatabase:
    """One plugin's database: its engine (created on first use) and its migrations.

    Get it through ``deps={"database": core_services.database}``::

        async def init(*, database: DatabaseService) -> None:
            # Alembic scripts: <plugin>/migrations/versions/*.py; no env.py needed.
            await database.migrate(Path(__file__).parent / "migrations")
            async with database.begin() as conn:  # commits at the end of the block
                await conn.execute(text("INSERT INTO todos (title) VALUES (:t)"), {"t": "docs"})
            engine = await database.get_client()  # the SQLAlchemy AsyncEngine itself
    """

    def __init__(
        self,
        settings: PluginDatabaseSettings,
        engine: Callable[[], Awaitable[AsyncEngine]],
        logger: LoggerService,
        *,
        migration_engine: Callable[[], AsyncEngine] | None = None,
    ) -> None:
        self._settings = settings
        self._engine = engine
        self._logger = logger
        # Creates a short-lived engine for migrations (None: they use the plugin's engine).
        self._migration_engine = migration_engine

    @property
    def plugin_id(self) -> str:
        """The plugin this database belongs to."""
        return self._settings.plugin_id

    @property
    def settings(self) -> PluginDatabaseSettings:
        """The resolved configuration (client, target, pool) of this database."""
        return self._settings

    @property
    def skip_migrations(self) -> bool:
        """True when migrations are configured off; :meth:`migrate` then does nothing."""
        return self._settings.skip_migrations

    @property
    def migrations(self) -> DatabaseMigrations:
        """Backstage's ``migrations`` option: ``migrations.skip``."""
        return DatabaseMigrations(skip=self._settings.skip_migrations)

    async def get_client(self) -> AsyncEngine:
        """The plugin's ``AsyncEngine``. The first call creates the database (or schema) when
        ``ensureExists`` says so; later calls return the same engine. A failed first call is
        not remembered: the next call tries again.
        """
        return await self._engine()

    async def migrate(
        self, script_location: str | os.PathLike[str], *, version_table: str | None = None
    ) -> None:
        """Upgrade to the newest revision(s) of the Alembic scripts at ``script_location``.

        Does nothing when :attr:`skip_migrations` is set. Applied revisions are recorded in
        ``version_table`` (default ``<pluginId>_alembic_version``); give another name to keep a
        second set of migrations (a library's tables, say) in the same database. Concurrent
        instances apply each revision once: the run holds an advisory lock on PostgreSQL, a
        ``GET_LOCK`` named lock on MySQL.

        Raises :class:`FileNotFoundError` naming the folder when it is missing, or when it holds
        scripts but no ``versions/`` revisions (they would never run); a folder with no script
        at all logs a warning and changes nothing.
        """
        # SQLAlchemy and Alembic load with the first migration or connection, not with the
        # service: a plugin may depend on core.database (core.auth does) and never use it.
        from ._migrations import load_migration_scripts, run_migrations

        table = version_table or f"{self.plugin_id}_alembic_version"
        if self.skip_migrations:
            self._logger.debug("Skipping database migrations", {"versionTable": table})
            return
        location = Path(script_location)
        script = await anyio.to_thread.run_sync(load_migration_scripts, location)
        if script is None:
            # knex's migrate.latest() on an empty folder succeeds doing nothing; say so, since
            # a wrong path is the likely cause.
            self._logger.warn(
                f"No database migrations found in '{location}'; nothing to apply",
                {"versionTable": table},
            )
            return
        engine = await self.get_client()  # creates the database or schema first
        target = self._settings.target
        schema = target.schema if isinstance(target, PgSettings) else None
        if self._migration_engine is None:
            applied = await run_migrations(engine, script, version_table=table, schema=schema)
        else:
            own = self._migration_engine()
            try:
                applied = await run_migrations(own, script, version_table=table, schema=schema)
            finally:
                with anyio.CancelScope(shield=True):
                    await own.dispose()
        if applied:
            self._logger.info(
                f"Applied {len(applied)} database migration(s)",
                {"versionTable": table, "revisions": applied},
            )

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection, returned to the pool when the block ends."""
        engine = await self.get_client()
        async with engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction: committed when the block ends, rolled back on error."""
        engine = await self.get_client()
        async with engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def session(self, **options: Any) -> AsyncIterator[AsyncSession]:
        """An ORM session on the engine, closed when the block ends (``options`` go to
        :class:`AsyncSession`; ``expire_on_commit`` defaults to False, as async code wants).
        """
        from sqlalchemy.ext.asyncio import AsyncSession

        engine = await self.get_client()
        options.setdefault("expire_on_commit", False)
        async with AsyncSession(engine, **options) as session:
            yield session


def _conforms(database: PluginDatabase) -> DatabaseService:
    # Lets mypy prove that PluginDatabase satisfies the DatabaseService protocol.
    return database
