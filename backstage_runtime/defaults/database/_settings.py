"""What ``backend.database`` resolves to for one plugin, once validated."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeAlias

__all__ = [
    "ClientKind",
    "MysqlSettings",
    "PgSettings",
    "PluginDatabaseSettings",
    "PoolSettings",
    "SqliteSettings",
    "SslSetting",
]

#: The engines we drive: PostgreSQL through asyncpg, SQLite through aiosqlite, MySQL/MariaDB
#: through aiomysql.
ClientKind: TypeAlias = Literal["pg", "sqlite", "mysql"]

#: What asyncpg's ``ssl`` argument takes: off, a libpq-style mode name, or a context.
SslSetting: TypeAlias = bool | str | ssl.SSLContext | None


@dataclass(frozen=True)
class PoolSettings:
    """Connection pool bounds and timeouts, from knex's ``pool.min``/``pool.max``, the smaller of
    ``acquireConnectionTimeout`` and ``pool.acquireTimeoutMillis`` (60 s when neither is set),
    and ``pool.createTimeoutMillis`` (tarn's 30 s by default).
    """

    min_size: int
    max_size: int
    #: Seconds to wait for a free connection before failing.
    acquire_timeout: float
    #: Seconds a new connection may take to open (never more than ``acquire_timeout``).
    connect_timeout: float = 30.0


@dataclass(frozen=True)
class SqliteSettings:
    """Where a plugin's SQLite database lives; ``path`` None means in memory."""

    path: Path | None


@dataclass(frozen=True)
class PgSettings:
    """How to reach a plugin's PostgreSQL database, and what to create there first."""

    host: str | None
    port: int | None
    user: str | None
    password: str | None = field(repr=False)
    #: None (schema mode without a configured database): the server's default for the user.
    database: str | None
    ssl: SslSetting
    application_name: str
    role: str | None
    #: The plugin's schema in ``pluginDivisionMode: schema``; None in database mode.
    schema: str | None
    ensure_database: bool
    ensure_schema: bool
    #: Session settings from the connection object (``statement_timeout``, ``options: -c ...``).
    server_settings: Mapping[str, str] = field(default_factory=dict)
    #: Further asyncpg ``connect`` keywords (``timeout``, ``command_timeout``), in seconds;
    #: ``command_timeout`` None: statements never time out.
    connect_options: Mapping[str, float | None] = field(default_factory=dict)
    #: Connection-object keys with no asyncpg counterpart (full config keys), to warn about.
    ignored_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class MysqlSettings:
    """How to reach a plugin's MySQL (or MariaDB) database, and whether to create it first."""

    host: str | None
    port: int | None
    user: str | None
    password: str | None = field(repr=False)
    #: Always set: MySQL divides plugins by database only.
    database: str
    #: None or False: plain TCP; a context: TLS with it.
    ssl: ssl.SSLContext | None
    ensure_database: bool


@dataclass(frozen=True)
class PluginDatabaseSettings:
    """Everything the database service needs for one plugin."""

    plugin_id: str
    client: ClientKind
    target: SqliteSettings | PgSettings | MysqlSettings
    pool: PoolSettings
    skip_migrations: bool
    #: ``knexConfig`` keys that have no SQLAlchemy counterpart (full config keys), to warn about.
    ignored_keys: tuple[str, ...] = ()
