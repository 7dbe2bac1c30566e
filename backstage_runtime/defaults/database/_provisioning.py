"""Creating a plugin's database (PostgreSQL, MySQL) or schema when missing (``ensureExists``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncEngine

from ...api.errors import ForwardedError
from ._locks import advisory_lock_key, quote_identifier
from ._mysql import create_mysql_admin_engine, quote_mysql_identifier
from ._postgres import create_pg_admin_engine
from ._settings import MysqlSettings, PgSettings

__all__ = ["DatabaseProvisioner"]

# Backstage retries the database check three times, 100 ms apart: a fresh server may refuse
# the first connections, and a concurrent CREATE DATABASE on the template can make one fail.
_ATTEMPTS = 3
_RETRY_DELAY = 0.1


class DatabaseProvisioner:
    """Makes sure databases and schemas exist, each checked once per backend.

    On PostgreSQL creation is serialised across processes by an advisory lock per name, so
    several instances starting together create each database once and none of them fails; on
    MySQL ``CREATE DATABASE IF NOT EXISTS`` is safe to race. A failed check is not remembered:
    the next call tries again.
    """

    def __init__(self) -> None:
        self._done: set[tuple[object, ...]] = set()
        self._locks: dict[tuple[object, ...], anyio.Lock] = {}

    async def ensure_database(self, settings: PgSettings) -> None:
        """Create ``settings.database`` on its server unless it exists.

        Raises :class:`ForwardedError` (Backstage's text) when the server cannot be reached.
        """
        database = settings.database
        assert database is not None
        key = ("database", settings.host, settings.port, database)
        async with self._lock(key):
            if key in self._done:
                return
            try:
                await self._create_database(settings, database)
            except Exception as error:
                raise ForwardedError(
                    f"Failed to connect to the database to make sure that '{database}' exists",
                    error,
                ) from error
            self._done.add(key)

    async def ensure_mysql_database(self, settings: MysqlSettings) -> None:
        """Create ``settings.database`` on its MySQL server unless it exists.

        Raises :class:`ForwardedError` (Backstage's text) when the server cannot be reached.
        """
        database = settings.database
        key = ("mysql-database", settings.host, settings.port, database)
        async with self._lock(key):
            if key in self._done:
                return
            statement = text(f"CREATE DATABASE IF NOT EXISTS {quote_mysql_identifier(database)}")
            admin = create_mysql_admin_engine(settings)
            try:
                await _with_retries(lambda: _execute(admin, statement))
            except Exception as error:
                raise ForwardedError(
                    f"Failed to connect to the database to make sure that '{database}' exists",
                    error,
                ) from error
            finally:
                await admin.dispose()
            self._done.add(key)

    async def ensure_schema(
        self, engine: AsyncEngine, settings: PgSettings, plugin_id: str
    ) -> None:
        """Create the plugin's schema (owned by ``role`` when set) through its own engine."""
        schema = settings.schema
        assert schema is not None
        key = ("schema", settings.host, settings.port, settings.database, schema)
        async with self._lock(key):
            if key in self._done:
                return
            statement = f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(schema)}"
            if settings.role is not None:
                statement += f" AUTHORIZATION {quote_identifier(settings.role)}"
            try:
                async with engine.begin() as conn:
                    # IF NOT EXISTS alone still races: two concurrent creators can both pass
                    # the check and one fails on the catalog's unique index.
                    await conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": advisory_lock_key("create-schema", schema)},
                    )
                    await conn.execute(text(statement))
            except Exception as error:
                raise ForwardedError(
                    "Failed to connect to the database to make sure that schema for plugin "
                    f"'{plugin_id}' exists",
                    error,
                ) from error
            self._done.add(key)

    def _lock(self, key: tuple[object, ...]) -> anyio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = anyio.Lock()
        return lock

    async def _create_database(self, settings: PgSettings, database: str) -> None:
        admin = create_pg_admin_engine(settings)
        try:
            await _with_retries(lambda: _create_database_once(admin, database))
        finally:
            await admin.dispose()


async def _with_retries(attempt: Callable[[], Awaitable[None]]) -> None:
    for number in range(1, _ATTEMPTS + 1):
        try:
            await attempt()
            return
        except Exception:
            if number == _ATTEMPTS:
                raise
            await anyio.sleep(_RETRY_DELAY)


async def _execute(engine: AsyncEngine, statement: TextClause) -> None:
    async with engine.connect() as conn:
        await conn.execute(statement)


async def _create_database_once(admin: AsyncEngine, database: str) -> None:
    lock = {"key": advisory_lock_key("create-database", database)}
    async with admin.connect() as conn:
        # A session lock: CREATE DATABASE cannot run in a transaction, so no xact lock.
        await conn.execute(text("SELECT pg_advisory_lock(:key)"), lock)
        try:
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": database}
            )
            if not exists:
                await conn.execute(text(f"CREATE DATABASE {quote_identifier(database)}"))
        finally:
            with anyio.CancelScope(shield=True):
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), lock)
