"""How ``backend.database`` resolves for a plugin, and the errors that name the key at fault."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.defaults.database import (
    DatabaseManager,
    PgSettings,
    PluginDatabaseSettings,
    SqliteSettings,
)
from backstage_runtime.testing import MockRootLogger, mock_services

PG: dict[str, Any] = {
    "client": "pg",
    "connection": {"host": "db.example", "user": "backstage", "password": "s3cret"},
}


def resolve(
    database: dict[str, Any] | None,
    plugin_id: str = "catalog",
    *,
    skip_migrations: bool | None = None,
    logger: MockRootLogger | None = None,
) -> PluginDatabaseSettings:
    config = mock_services.root_config(
        {} if database is None else {"backend": {"database": database}}
    )
    manager = DatabaseManager.from_config(
        config, logger=logger or MockRootLogger(), skip_migrations=skip_migrations
    )
    return manager.for_plugin(plugin_id).settings


def pg(database: dict[str, Any], plugin_id: str = "catalog") -> PgSettings:
    target = resolve(database, plugin_id).target
    assert isinstance(target, PgSettings)
    return target


# -- resolution ----------------------------------------------------------------------------


def test_no_config_means_a_private_in_memory_sqlite() -> None:
    settings = resolve(None)
    assert settings.client == "sqlite"
    assert settings.target == SqliteSettings(path=None)
    assert settings.pool.max_size == 1
    assert settings.skip_migrations is False


@pytest.mark.parametrize("client", ["sqlite", "sqlite3", "better-sqlite3"])
def test_sqlite_client_names(client: str) -> None:
    assert resolve({"client": client, "connection": ":memory:"}).client == "sqlite"


def test_sqlite_directory_gives_one_file_per_plugin(tmp_path: Path) -> None:
    database = {"client": "better-sqlite3", "connection": {"directory": str(tmp_path)}}
    assert resolve(database, "catalog").target == SqliteSettings(tmp_path / "catalog.sqlite")
    assert resolve(database, "search").target == SqliteSettings(tmp_path / "search.sqlite")


def test_a_plugin_may_name_its_sqlite_file(tmp_path: Path) -> None:
    database = {
        "client": "sqlite3",
        "connection": {"directory": str(tmp_path)},
        "plugin": {"catalog": {"connection": {"filename": "cat.db"}}},
    }
    assert resolve(database).target == SqliteSettings(tmp_path / "cat.db")


def test_pg_database_mode_names_the_database_after_the_plugin() -> None:
    database = {**PG, "connection": {**PG["connection"], "database": "ignored"}}
    target = pg(database, "catalog")
    assert target.database == "backstage_plugin_catalog"
    assert target.schema is None
    assert (target.host, target.user, target.password) == ("db.example", "backstage", "s3cret")
    assert target.application_name == "backstage_plugin_catalog"
    assert target.ensure_database
    assert not target.ensure_schema
    assert pg({**PG, "prefix": "bs_"}, "search").database == "bs_search"


def test_pg_plugin_overrides_merge_over_the_base_connection() -> None:
    database = {
        **PG,
        "plugin": {
            "catalog": {"connection": {"database": "cat", "host": "other.example"}, "role": "cat"}
        },
    }
    target = pg(database)
    assert (target.database, target.host, target.user) == ("cat", "other.example", "backstage")
    assert target.role == "cat"


def test_a_plugin_overriding_the_client_does_not_inherit_the_base_connection(
    tmp_path: Path,
) -> None:
    database = {
        "client": "better-sqlite3",
        "connection": {"directory": str(tmp_path)},
        "plugin": {"catalog": {"client": "pg", "connection": "postgresql://u@h:6543"}},
    }
    target = pg(database)
    assert (target.host, target.port, target.user) == ("h", 6543, "u")
    assert resolve(database, "search").client == "sqlite"


def test_pg_connection_string() -> None:
    target = pg(
        {
            "client": "pg",
            "connection": "postgresql://me:p%40ss@db:5433/base?sslmode=require&application_name=x",
        }
    )
    assert (target.user, target.password, target.host, target.port) == ("me", "p@ss", "db", 5433)
    assert target.ssl == "require"
    assert target.application_name == "x"
    assert target.database == "backstage_plugin_catalog"


def test_pg_schema_mode_keeps_the_database_and_adds_a_schema() -> None:
    database = {
        **PG,
        "connection": {**PG["connection"], "database": "shared"},
        "pluginDivisionMode": "schema",
        "schemaPrefix": "bs_",
    }
    target = pg(database)
    assert (target.database, target.schema) == ("shared", "bs_catalog")
    assert target.ensure_database
    assert target.ensure_schema


@pytest.mark.parametrize(
    ("flags", "ensure_database", "ensure_schema"),
    [
        ({"ensureExists": False}, False, False),
        ({"ensureExists": False, "ensureSchemaExists": True}, False, True),
        ({"ensureExists": False, "plugin": {"catalog": {"ensureExists": True}}}, True, True),
        (
            {"ensureExists": False, "plugin": {"catalog": {"getEnsureSchemaExistsConfig": True}}},
            False,
            True,
        ),
    ],
)
def test_pg_ensure_flags(flags: dict[str, Any], ensure_database: bool, ensure_schema: bool) -> None:
    database = {
        **PG,
        "connection": {**PG["connection"], "database": "shared"},
        "pluginDivisionMode": "schema",
        **flags,
    }
    target = pg(database)
    assert (target.ensure_database, target.ensure_schema) == (ensure_database, ensure_schema)


def test_schema_mode_without_a_database_uses_the_server_default_and_creates_none() -> None:
    target = pg({**PG, "pluginDivisionMode": "schema"})
    assert target.database is None
    assert not target.ensure_database
    assert target.ensure_schema


@pytest.mark.parametrize(
    ("database", "option", "expected"),
    [
        ({}, None, False),
        ({"skipMigrations": True}, None, True),
        ({"skipMigrations": True, "plugin": {"catalog": {"skipMigrations": False}}}, None, False),
        ({"plugin": {"catalog": {"skipMigrations": "yes"}}}, None, True),
        ({"skipMigrations": True}, False, False),
        ({}, True, True),
    ],
)
def test_skip_migrations_precedence(
    database: dict[str, Any], option: bool | None, expected: bool
) -> None:
    settings = resolve({**PG, **database}, skip_migrations=option)
    assert settings.skip_migrations is expected


def test_knex_pool_maps_to_the_sqlalchemy_pool_and_plugins_override_it() -> None:
    database = {
        **PG,
        "knexConfig": {"pool": {"min": 1, "max": 4, "acquireTimeoutMillis": 2500}},
        "plugin": {"catalog": {"knexConfig": {"pool": {"max": 8}}}},
    }
    pool = resolve(database).pool
    assert (pool.min_size, pool.max_size, pool.acquire_timeout) == (1, 8, 2.5)
    assert resolve(database, "search").pool.max_size == 4
    assert resolve(PG).pool.max_size == 10


def test_timeouts_default_to_knex_and_tarn_values() -> None:
    pool = resolve(PG).pool
    assert (pool.acquire_timeout, pool.connect_timeout) == (60.0, 30.0)
    assert resolve(None).pool.acquire_timeout == 60.0


@pytest.mark.parametrize(
    ("knex", "acquire", "connect"),
    [
        # knex takes the smaller of the two acquire timeouts given.
        ({"acquireConnectionTimeout": 5000}, 5.0, 5.0),
        ({"acquireConnectionTimeout": 90000, "pool": {"acquireTimeoutMillis": 2000}}, 2.0, 2.0),
        ({"acquireConnectionTimeout": 2000, "pool": {"acquireTimeoutMillis": 9000}}, 2.0, 2.0),
        ({"pool": {"createTimeoutMillis": 4000}}, 60.0, 4.0),
        # Opening a connection is part of acquiring it: capped by the acquire timeout.
        ({"acquireConnectionTimeout": 3000, "pool": {"createTimeoutMillis": 4000}}, 3.0, 3.0),
    ],
)
def test_knex_timeouts_map_to_the_pool(
    knex: dict[str, Any], acquire: float, connect: float
) -> None:
    logger = MockRootLogger()
    pool = resolve({**PG, "knexConfig": knex}, logger=logger).pool
    assert (pool.acquire_timeout, pool.connect_timeout) == (acquire, connect)
    assert [entry for entry in logger.entries if entry.level == "warn"] == []


def test_a_plugin_overrides_the_acquire_timeout() -> None:
    database = {
        **PG,
        "knexConfig": {"acquireConnectionTimeout": 5000},
        "plugin": {"catalog": {"knexConfig": {"acquireConnectionTimeout": 1500}}},
    }
    assert resolve(database).pool.acquire_timeout == 1.5
    assert resolve(database, "search").pool.acquire_timeout == 5.0


@pytest.mark.parametrize(
    "key", ["acquireConnectionTimeout", "pool.acquireTimeoutMillis", "pool.createTimeoutMillis"]
)
def test_a_timeout_must_be_positive(key: str) -> None:
    knex: dict[str, Any] = {"pool": {}}
    if key.startswith("pool."):
        knex["pool"][key.removeprefix("pool.")] = 0
    else:
        knex[key] = -1
    with pytest.raises(ConfigError) as caught:
        resolve({**PG, "knexConfig": knex})
    assert f"'backend.database.knexConfig.{key}'" in str(caught.value)


def test_knex_settings_without_a_counterpart_are_named_in_a_warning() -> None:
    logger = MockRootLogger()
    database = {**PG, "knexConfig": {"debug": True, "pool": {"max": 3, "idleTimeoutMillis": 5}}}
    assert resolve(database, logger=logger).pool.max_size == 3
    warnings = [entry for entry in logger.entries if entry.level == "warn"]
    assert len(warnings) == 1
    assert warnings[0].fields["keys"] == [
        "backend.database.knexConfig.debug",
        "backend.database.knexConfig.pool.idleTimeoutMillis",
    ]


def test_ssl_forms() -> None:
    def ssl_of(value: Any) -> Any:
        return pg({**PG, "connection": {**PG["connection"], "ssl": value}}).ssl

    verified = ssl_of(True)
    assert isinstance(verified, ssl.SSLContext)
    assert verified.verify_mode == ssl.CERT_REQUIRED
    assert verified.check_hostname
    unverified = ssl_of({"rejectUnauthorized": False})
    assert isinstance(unverified, ssl.SSLContext)
    assert unverified.verify_mode == ssl.CERT_NONE
    assert ssl_of(False) is False
    assert ssl_of("verify-full") == "verify-full"


def test_the_password_stays_out_of_repr() -> None:
    assert "s3cret" not in repr(resolve(PG))


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("database", "key", "detail"),
    [
        ({"connection": ":memory:"}, "backend.database.client", "Missing required"),
        ({"client": "mongodb", "connection": "x"}, "backend.database.client", "'mongodb'"),
        (
            {**PG, "plugin": {"catalog": {"client": "oracledb"}}},
            "backend.database.plugin.catalog.client",
            "'oracledb'",
        ),
        ({"client": "pg"}, "backend.database.connection", "Missing required"),
        (
            {"client": "sqlite3", "connection": "/var/lib/backstage.sqlite"},
            "backend.database.connection",
            "use 'connection.directory'",
        ),
        (
            {"client": "sqlite3", "connection": {"filename": "shared.sqlite"}},
            "backend.database.connection.filename",
            "use 'connection.directory'",
        ),
        (
            {"client": "sqlite3", "connection": {"dir": "x"}},
            "backend.database.connection.dir",
            "unsupported SQLite connection option",
        ),
        (
            {"client": "sqlite", "connection": ":memory:", "pluginDivisionMode": "schema"},
            "backend.database.pluginDivisionMode",
            "does not support plugin division mode 'schema'",
        ),
        ({**PG, "pluginDivisionMode": "table"}, "backend.database.pluginDivisionMode", "'table'"),
        (
            {"client": "pg", "connection": "mysql://root:hunter2@db/x"},
            "backend.database.connection",
            "unsupported scheme",
        ),
        (
            {"client": "pg", "connection": "postgresql://db/x?connect_timeout=3"},
            "backend.database.connection",
            "connect_timeout",
        ),
        (
            {"client": "pg", "connection": {"host": "db", "type": "azure"}},
            "backend.database.connection.type",
            "not supported",
        ),
        (
            {"client": "pg", "connection": {"host": "db", "port": "fast"}},
            "backend.database.connection.port",
            "port number",
        ),
        (
            {"client": "pg", "connection": {"host": "db", "ssl": "sometimes"}},
            "backend.database.connection.ssl",
            "unknown SSL mode",
        ),
        (
            {"client": "pg", "connection": {"host": "db", "ssl": {"cert": "x"}}},
            "backend.database.connection.ssl.key",
            "needs both cert and key",
        ),
        (
            {"client": "pg", "connection": {"host": "db", "ssl": {"ca": "not a certificate"}}},
            "backend.database.connection.ssl",
            "Invalid config",
        ),
        (
            {"client": "sqlite", "connection": ":memory:", "knexConfig": {"pool": {"max": 5}}},
            "backend.database.knexConfig.pool.max",
            "must be 1",
        ),
        (
            {**PG, "plugin": {"catalog": {"knexConfig": {"pool": {"min": 20}}}}},
            "backend.database.plugin.catalog.knexConfig.pool.min",
            "larger than pool.max",
        ),
        (
            {**PG, "knexConfig": {"pool": {"max": 2.5}}},
            "backend.database.knexConfig.pool.max",
            "whole number",
        ),
        (
            {**PG, "knexConfig": {"pool": {"acquireTimeoutMillis": 0}}},
            "backend.database.knexConfig.pool.acquireTimeoutMillis",
            "positive",
        ),
        ({**PG, "prefix": "p" * 60}, "backend.database.prefix", "63-byte limit"),
        (
            {**PG, "pluginDivisionMode": "schema", "schemaPrefix": "s" * 60},
            "backend.database.schemaPrefix",
            "63-byte limit",
        ),
        ({**PG, "ensureExists": "maybe"}, "backend.database.ensureExists", ""),
    ],
)
def test_config_errors_name_the_key(database: dict[str, Any], key: str, detail: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(database)
    message = str(caught.value)
    assert f"'{key}'" in message
    assert detail in message
    assert "hunter2" not in message
