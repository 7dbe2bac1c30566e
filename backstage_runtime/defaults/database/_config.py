"""Reading ``backend.database`` into validated settings for one plugin."""

from __future__ import annotations

from collections.abc import Mapping

from ...api import Config
from ...api.errors import ConfigError
from ._mysql_config import read_mysql_settings
from ._pg_config import read_pg_settings
from ._section import DatabaseSection
from ._settings import (
    ClientKind,
    MysqlSettings,
    PgSettings,
    PluginDatabaseSettings,
    PoolSettings,
    SqliteSettings,
)
from ._sqlite_config import read_sqlite_settings

__all__ = ["DEFAULT_PREFIX", "read_plugin_settings"]

#: Backstage's default database-name prefix: ``backstage_plugin_<pluginId>``.
DEFAULT_PREFIX = "backstage_plugin_"
_CLIENTS: Mapping[str, ClientKind] = {
    "pg": "pg",
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
    "better-sqlite3": "sqlite",
    "mysql": "mysql",
    "mysql2": "mysql",
}
_DIVISION_MODES = ("database", "schema")
# knex's defaults: 60 s to acquire a connection, tarn's 30 s to open one; pg and mysql pools of
# at most 10 (we open none up front), and SQLite "pools" of exactly one connection.
_ACQUIRE_TIMEOUT_MS = 60_000.0
_CREATE_TIMEOUT_MS = 30_000.0
_DEFAULT_MAX = {"pg": 10, "mysql": 10, "sqlite": 1}
_POOL_KEYS = frozenset({"min", "max", "acquireTimeoutMillis", "createTimeoutMillis"})
_KNEX_KEYS = frozenset({"pool", "acquireConnectionTimeout"})


def read_plugin_settings(
    config: Config | None, plugin_id: str, *, skip_migrations: bool | None = None
) -> PluginDatabaseSettings:
    """The settings of ``plugin_id`` from the ``backend.database`` section ``config``.

    ``config`` None (no section at all) gives Backstage's default: a private in-memory SQLite
    database. ``skip_migrations`` (the factory option) beats
    ``plugin.<id>.skipMigrations``, which beats ``skipMigrations``. Raises :class:`ConfigError`
    naming the key at fault.
    """
    if config is None:
        return PluginDatabaseSettings(
            plugin_id=plugin_id,
            client="sqlite",
            target=SqliteSettings(path=None),
            pool=PoolSettings(
                min_size=0,
                max_size=1,
                acquire_timeout=_ACQUIRE_TIMEOUT_MS / 1000,
                connect_timeout=_CREATE_TIMEOUT_MS / 1000,
            ),
            skip_migrations=bool(skip_migrations),
        )
    section = DatabaseSection(config, plugin_id)
    base_client = config.get_string("client")
    plugin_client = config.get_optional_string(section.plugin_relative("client"))
    client_name = plugin_client if plugin_client is not None else base_client
    client_key = section.plugin_key("client") if plugin_client else section.key("client")
    kind = _client_kind(client_name, plugin_id, client_key)
    overridden = client_name != base_client
    if not overridden and not config.has("connection") and not section.has_plugin("connection"):
        raise ConfigError(f"Missing required config value at '{section.key('connection')}'")

    division_mode = config.get_optional_string("pluginDivisionMode") or "database"
    if division_mode not in _DIVISION_MODES:
        raise ConfigError(
            f"Invalid config at '{section.key('pluginDivisionMode')}': unknown plugin division "
            f"mode '{division_mode}', expected 'database' or 'schema'"
        )
    target = _read_target(section, kind, client_overridden=overridden, division_mode=division_mode)
    skip = skip_migrations
    if skip is None:
        skip = section.boolean("skipMigrations")
    return PluginDatabaseSettings(
        plugin_id=plugin_id,
        client=kind,
        target=target,
        pool=_read_pool(
            section, kind, in_memory=isinstance(target, SqliteSettings) and target.path is None
        ),
        skip_migrations=bool(skip),
        ignored_keys=(
            *_ignored_knex_keys(section),
            *_ignored_role(section, kind),
            *(target.ignored_keys if isinstance(target, PgSettings) else ()),
        ),
    )


def _read_target(
    section: DatabaseSection, kind: ClientKind, *, client_overridden: bool, division_mode: str
) -> SqliteSettings | PgSettings | MysqlSettings:
    config = section.config
    prefix = config.get_optional_string("prefix") or DEFAULT_PREFIX
    if kind == "pg":
        return read_pg_settings(
            section,
            client_overridden=client_overridden,
            division_mode=division_mode,
            prefix=prefix,
            schema_prefix=config.get_optional_string("schemaPrefix") or "",
        )
    if kind == "mysql":
        return read_mysql_settings(
            section, client_overridden=client_overridden, division_mode=division_mode, prefix=prefix
        )
    return read_sqlite_settings(
        section, client_overridden=client_overridden, division_mode=division_mode
    )


def _ignored_role(section: DatabaseSection, kind: ClientKind) -> tuple[str, ...]:
    """``role`` on MySQL: knex's mysql client ignores it too, but say so."""
    if kind != "mysql":
        return ()
    return tuple(
        section.key(relative)
        for relative in (section.plugin_relative("role"), "role")
        if section.config.has(relative)
    )


def _client_kind(name: str, plugin_id: str, key: str) -> ClientKind:
    kind = _CLIENTS.get(name)
    if kind is None:
        raise ConfigError(
            f"Unsupported database client type '{name}' specified for plugin '{plugin_id}' at "
            f"'{key}'; expected one of {', '.join(_CLIENTS)}"
        )
    return kind


def _read_pool(section: DatabaseSection, kind: ClientKind, *, in_memory: bool) -> PoolSettings:
    max_size = _DEFAULT_MAX[kind]
    found = section.number("knexConfig.pool.max")
    if found is not None:
        max_size = _whole(found, minimum=1)
        if in_memory and max_size != 1:
            raise ConfigError(
                f"Invalid config at '{found[1]}': an in-memory SQLite database lives in a single "
                "connection, so the pool size must be 1"
            )
    min_size = 0
    found = section.number("knexConfig.pool.min")
    if found is not None:
        min_size = _whole(found, minimum=0)
        if min_size > max_size:
            raise ConfigError(
                f"Invalid config at '{found[1]}': pool.min ({min_size}) is larger than "
                f"pool.max ({max_size})"
            )
    # knex takes the smaller of the two acquire timeouts given, 60 s when neither is.
    given = [
        _positive(found)
        for found in (
            section.number("knexConfig.acquireConnectionTimeout"),
            section.number("knexConfig.pool.acquireTimeoutMillis"),
        )
        if found is not None
    ]
    acquire_ms = min(given) if given else _ACQUIRE_TIMEOUT_MS
    found = section.number("knexConfig.pool.createTimeoutMillis")
    create_ms = _positive(found) if found is not None else _CREATE_TIMEOUT_MS
    return PoolSettings(
        min_size=min_size,
        max_size=max_size,
        acquire_timeout=acquire_ms / 1000,
        # Opening a connection is part of acquiring it: it cannot take longer than that.
        connect_timeout=min(create_ms, acquire_ms) / 1000,
    )


def _positive(found: tuple[float, str]) -> float:
    value, key = found
    if value <= 0:
        raise ConfigError(f"Invalid config at '{key}': expected a positive number")
    return value


def _whole(found: tuple[float, str], *, minimum: int) -> int:
    value, key = found
    if value != int(value) or value < minimum:
        raise ConfigError(f"Invalid config at '{key}': expected a whole number >= {minimum}")
    return int(value)


def _ignored_knex_keys(section: DatabaseSection) -> tuple[str, ...]:
    """``knexConfig`` settings that mean nothing to SQLAlchemy, as full keys."""
    ignored: list[str] = []
    for relative in ("knexConfig", section.plugin_relative("knexConfig")):
        knex = section.config.get_optional_config(relative)
        if knex is None:
            continue
        # Config readers are not mappings: iterate over keys() explicitly.
        knex_names = knex.keys()
        for name in knex_names:
            if name not in _KNEX_KEYS:
                ignored.append(section.key(f"{relative}.{name}"))
        pool = knex.get_optional_config("pool")
        if pool is not None:
            pool_names = pool.keys()
            ignored.extend(
                section.key(f"{relative}.pool.{name}")
                for name in pool_names
                if name not in _POOL_KEYS
            )
    return tuple(ignored)
