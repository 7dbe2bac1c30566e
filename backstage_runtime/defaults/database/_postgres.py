"""PostgreSQL engines over asyncpg, and the DDL that creates a plugin's database or schema."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from ._locks import quote_identifier
from ._settings import PgSettings, PoolSettings

__all__ = ["ADMIN_DATABASE", "create_pg_admin_engine", "create_pg_engine", "pg_url"]

#: Where database-level DDL (``CREATE DATABASE``) runs, as in Backstage.
ADMIN_DATABASE = "postgres"


def pg_url(settings: PgSettings, database: str | None) -> URL:
    """The asyncpg URL for ``settings`` on ``database`` (None: the server's default)."""
    return URL.create(
        "postgresql+asyncpg",
        username=settings.user,
        password=settings.password,
        host=settings.host,
        port=settings.port,
        database=database,
    )


def create_pg_engine(settings: PgSettings, pool: PoolSettings) -> AsyncEngine:
    """An engine on the plugin's database; in schema mode its connections search only the
    plugin's schema, and with ``role`` each new connection runs ``SET ROLE`` first.

    knex's ``pool.max`` becomes the pool size with no overflow: connections open lazily, stay
    pooled, and a checkout beyond the limit waits up to ``acquireTimeoutMillis``.
    """
    server_settings = {"application_name": settings.application_name}
    if settings.schema is not None:
        server_settings["search_path"] = quote_identifier(settings.schema)
    engine = create_async_engine(
        pg_url(settings, settings.database),
        pool_size=pool.max_size,
        max_overflow=0,
        pool_timeout=pool.acquire_timeout,
        connect_args=_connect_args(settings, server_settings),
    )
    _apply_role(engine, settings.role)
    return engine


def create_pg_admin_engine(settings: PgSettings) -> AsyncEngine:
    """A short-lived engine on the ``postgres`` database for ``CREATE DATABASE``.

    No pool: it serves a handful of statements per plugin at startup, then is disposed.
    Autocommit, because ``CREATE DATABASE`` cannot run inside a transaction.
    """
    engine = create_async_engine(
        pg_url(settings, ADMIN_DATABASE),
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args=_connect_args(settings, {"application_name": settings.application_name}),
    )
    _apply_role(engine, settings.role)
    return engine


def _connect_args(settings: PgSettings, server_settings: dict[str, str]) -> dict[str, Any]:
    # The connection object's session settings first, so ours (application_name, the schema's
    # search_path) win where both are set.
    args: dict[str, Any] = {
        **settings.connect_options,
        "server_settings": {**settings.server_settings, **server_settings},
    }
    if settings.ssl is not None:
        args["ssl"] = settings.ssl
    return args


def _apply_role(engine: AsyncEngine, role: str | None) -> None:
    if role is None:
        return
    statement = f"SET ROLE {quote_identifier(role)}"

    def set_role(dbapi_connection: Any, _record: object) -> None:
        # Straight on the asyncpg connection, outside any transaction, so the role holds for
        # the whole session (SQLAlchemy's cursor would open a transaction and roll it back).
        dbapi_connection.run_async(lambda connection: connection.execute(statement))

    event.listen(engine.sync_engine, "connect", set_role)
