"""PostgreSQL engines over asyncpg, and the DDL that creates a plugin's database or schema."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from ._availability import PluginPool
from ._locks import quote_identifier
from ._settings import PgSettings, PoolSettings

__all__ = [
    "ADMIN_DATABASE",
    "DEFAULT_STATEMENT_TIMEOUT",
    "create_pg_admin_engine",
    "create_pg_engine",
    "pg_url",
]

#: Where database-level DDL (``CREATE DATABASE``) runs, as in Backstage.
ADMIN_DATABASE = "postgres"
#: Seconds a statement may wait for the server's answer unless ``query_timeout`` says otherwise.
#: knex sets none, so a query on a frozen server waits forever there; we wait as long as knex
#: waits for a connection, then fail the request with a 503.
DEFAULT_STATEMENT_TIMEOUT = 60.0


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


def create_pg_engine(
    settings: PgSettings, pool: PoolSettings, *, for_migrations: bool = False
) -> AsyncEngine:
    """An engine on the plugin's database; in schema mode its connections search only the
    plugin's schema, and with ``role`` each new connection runs ``SET ROLE`` first.

    knex's ``pool.max`` becomes the pool size with no overflow: connections open lazily, stay
    pooled, and a checkout beyond the limit waits up to the acquire timeout. A new connection
    may take the pool's connect timeout (or ``connectionTimeoutMillis`` if smaller) to open, a
    statement :data:`DEFAULT_STATEMENT_TIMEOUT` (or ``query_timeout``) to answer.

    ``for_migrations``: one unpooled connection whose statements never time out, since a
    migration may rightly run for longer than a request should wait.
    """
    server_settings = {"application_name": settings.application_name}
    if settings.schema is not None:
        server_settings["search_path"] = quote_identifier(settings.schema)
    connect_args = _connect_args(settings, server_settings)
    timeout = connect_args.get("timeout")
    connect_args["timeout"] = min(timeout or pool.connect_timeout, pool.connect_timeout)
    connect_args.setdefault("command_timeout", DEFAULT_STATEMENT_TIMEOUT)
    if for_migrations:
        connect_args["command_timeout"] = None
        engine = create_async_engine(
            pg_url(settings, settings.database), poolclass=NullPool, connect_args=connect_args
        )
    else:
        engine = create_async_engine(
            pg_url(settings, settings.database),
            poolclass=PluginPool,
            pool_size=pool.max_size,
            max_overflow=0,
            pool_timeout=pool.acquire_timeout,
            connect_args=connect_args,
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
