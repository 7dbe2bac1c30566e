"""SQLite engines over aiosqlite."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ._availability import PluginPool
from ._settings import PoolSettings, SqliteSettings

__all__ = ["create_sqlite_engine"]


def create_sqlite_engine(settings: SqliteSettings, pool: PoolSettings) -> AsyncEngine:
    """An engine on the plugin's SQLite database (created, with its directory, if missing).

    The pool keeps ``pool.max_size`` connections (1 by default, as knex does for SQLite). For an
    in-memory database that single pooled connection *is* the database: it stays open for the
    engine's life, every checkout sees the same tables, and a second concurrent checkout waits
    for it instead of silently sharing its transaction (SQLAlchemy's default StaticPool would
    hand the same connection to two tasks at once).
    """
    if settings.path is None:
        url = URL.create("sqlite+aiosqlite", database=":memory:")
    else:
        settings.path.parent.mkdir(parents=True, exist_ok=True)
        url = URL.create("sqlite+aiosqlite", database=str(settings.path))
    engine = create_async_engine(
        url,
        poolclass=PluginPool,
        pool_size=pool.max_size,
        max_overflow=0,
        pool_timeout=pool.acquire_timeout,
    )
    event.listen(engine.sync_engine, "connect", _enable_foreign_keys)
    return engine


def _enable_foreign_keys(dbapi_connection: Any, _record: object) -> None:
    # As Backstage does on every new SQLite connection: SQLite leaves them off by default.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()
