"""MySQL and MariaDB engines over aiomysql."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from ._availability import PluginPool
from ._settings import MysqlSettings, PoolSettings

__all__ = [
    "MysqlTlsUnavailableError",
    "create_mysql_admin_engine",
    "create_mysql_engine",
    "mysql_url",
    "quote_mysql_identifier",
]

# The server closes connections idle for wait_timeout (8 h by default); renewing pooled ones
# well before that keeps a quiet plugin from meeting "server has gone away".
_RECYCLE_SECONDS = 3600
# What Backstage gives its MySQL admin pool to acquire a connection.
_ADMIN_CONNECT_TIMEOUT = 10


def quote_mysql_identifier(name: str) -> str:
    """``name`` as a quoted MySQL identifier (for DDL, where parameters are not allowed)."""
    return "`" + name.replace("`", "``") + "`"


def mysql_url(settings: MysqlSettings, database: str | None) -> URL:
    """The aiomysql URL for ``settings`` on ``database`` (None: no default database)."""
    return URL.create(
        "mysql+aiomysql",
        username=settings.user,
        password=settings.password,
        host=settings.host,
        port=settings.port,
        database=database,
        # Full Unicode: MySQL's "utf8" stops at three bytes per character.
        query={"charset": "utf8mb4"},
    )


def create_mysql_engine(settings: MysqlSettings, pool: PoolSettings) -> AsyncEngine:
    """An engine on the plugin's database, sized like the PostgreSQL one (``pool.max``
    connections, no overflow, waiting up to ``acquireTimeoutMillis`` for a free one).

    Sessions run in UTC, so ``NOW()`` and ``TIMESTAMP`` columns read the same on every
    instance whatever the server's time zone.
    """
    engine = create_async_engine(
        mysql_url(settings, settings.database),
        poolclass=PluginPool,
        pool_size=pool.max_size,
        max_overflow=0,
        pool_timeout=pool.acquire_timeout,
        pool_recycle=_RECYCLE_SECONDS,
        # aiomysql has a connect timeout but no read timeout: a statement on a frozen server
        # waits until the operating system gives the connection up.
        connect_args={**_connect_args(settings), "connect_timeout": pool.connect_timeout},
    )
    _require_tls(engine, settings)
    return engine


def create_mysql_admin_engine(settings: MysqlSettings) -> AsyncEngine:
    """A short-lived engine with no default database, for ``CREATE DATABASE``; no pool."""
    engine = create_async_engine(
        mysql_url(settings, None),
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={**_connect_args(settings), "connect_timeout": _ADMIN_CONNECT_TIMEOUT},
    )
    _require_tls(engine, settings)
    return engine


def _connect_args(settings: MysqlSettings) -> dict[str, Any]:
    args: dict[str, Any] = {"init_command": "SET time_zone = '+00:00'"}
    if settings.ssl is not None:
        args["ssl"] = settings.ssl
    return args


class MysqlTlsUnavailableError(ConnectionError):
    """``connection.ssl`` asks for TLS but the server does not offer it."""


def _require_tls(engine: AsyncEngine, settings: MysqlSettings) -> None:
    if settings.ssl is None:
        return

    def check(dbapi_connection: Any, _record: object) -> None:
        # PyMySQL (under aiomysql) quietly stays on plain TCP when the server offers no TLS;
        # mysql2 refuses such a server, and so do we, before any query or password reuse.
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
            row = cursor.fetchone()
        finally:
            cursor.close()
        if not row or not row[1]:
            raise MysqlTlsUnavailableError(
                f"The MySQL server at {settings.host or 'localhost'}:{settings.port or 3306} "
                "does not support SSL/TLS, but 'connection.ssl' requires it"
            )

    event.listen(engine.sync_engine, "connect", check)
