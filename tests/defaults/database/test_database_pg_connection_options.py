"""node-postgres options in a PostgreSQL ``connection`` object: passed on or warned about.

knex hands the object to node-postgres, which sends ``statement_timeout``, ``lock_timeout``,
``idle_in_transaction_session_timeout``, ``options`` and ``client_encoding`` to the server as
startup parameters (asyncpg's ``server_settings`` are sent the same way), applies
``connectionTimeoutMillis`` and ``query_timeout`` on the client (asyncpg's ``timeout`` and
``command_timeout``), and lays ``connectionString`` over the object. Anything else has no
asyncpg counterpart: it is named in a warning, not refused.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.defaults.database import (
    DatabaseManager,
    PgSettings,
    PluginDatabaseSettings,
    database_service_factory,
)
from backstage_runtime.testing import MockRootLogger, mock_services, start_test_backend

from ._support import database_plugin


def resolve(
    database: dict[str, Any], logger: MockRootLogger | None = None, plugin_id: str = "catalog"
) -> PluginDatabaseSettings:
    config = mock_services.root_config({"backend": {"database": database}})
    manager = DatabaseManager.from_config(config, logger=logger or MockRootLogger())
    return manager.for_plugin(plugin_id).settings


def pg(settings: PluginDatabaseSettings) -> PgSettings:
    assert isinstance(settings.target, PgSettings)
    return settings.target


def test_startup_parameters_and_timeouts_reach_asyncpg() -> None:
    target = pg(
        resolve(
            {
                "client": "pg",
                "connection": {
                    "host": "db",
                    "statement_timeout": 5000,
                    "lock_timeout": "2s",
                    "idle_in_transaction_session_timeout": 60000,
                    "options": "-c work_mem=8MB",
                    "client_encoding": "UTF8",
                    "connectionTimeoutMillis": 1500,
                    "query_timeout": 30000,
                },
            }
        )
    )
    assert dict(target.server_settings) == {
        "statement_timeout": "5000",
        "lock_timeout": "2s",
        "idle_in_transaction_session_timeout": "60000",
        "options": "-c work_mem=8MB",
        "client_encoding": "UTF8",
    }
    assert dict(target.connect_options) == {"timeout": 1.5, "command_timeout": 30.0}
    assert target.ignored_keys == ()


def test_a_zero_query_timeout_lifts_the_statement_timeout() -> None:
    # 0 is node-postgres's "no timeout"; connectionTimeoutMillis 0 leaves the pool's in force.
    connection = {"host": "db", "query_timeout": 0, "connectionTimeoutMillis": 0}
    target = pg(resolve({"client": "pg", "connection": connection}))
    assert dict(target.connect_options) == {"command_timeout": None}


def test_options_without_a_counterpart_are_warned_about_not_refused() -> None:
    logger = MockRootLogger()
    settings = resolve(
        {
            "client": "pg",
            "connection": {"host": "db", "keepAlive": True, "sslmode": "require"},
            "plugin": {"catalog": {"connection": {"stream": "x"}}},
        },
        logger,
    )
    assert pg(settings).host == "db"
    assert settings.ignored_keys == (
        "backend.database.connection.keepAlive",
        "backend.database.connection.sslmode",
        "backend.database.plugin.catalog.connection.stream",
    )
    [warning] = [entry for entry in logger.entries if entry.level == "warn"]
    assert warning.fields["keys"] == list(settings.ignored_keys)


def test_the_connection_string_is_laid_over_the_object() -> None:
    target = pg(
        resolve(
            {
                "client": "pg",
                "connection": {
                    "host": "ignored",
                    "user": "kept",
                    "connectionString": "postgresql://u:p@db:5433/x",
                },
                "pluginDivisionMode": "schema",
            }
        )
    )
    assert (target.host, target.port, target.user, target.password, target.database) == (
        "db",
        5433,
        "u",
        "p",
        "x",
    )


def test_fallback_application_name_applies_when_no_application_name_is_set() -> None:
    fallback = {"host": "db", "fallback_application_name": "my-backstage"}
    assert pg(resolve({"client": "pg", "connection": fallback})).application_name == (
        "my-backstage"
    )
    both = {**fallback, "application_name": "explicit"}
    assert pg(resolve({"client": "pg", "connection": both})).application_name == "explicit"


def test_a_plugin_connection_adds_to_the_base_session_settings() -> None:
    target = pg(
        resolve(
            {
                "client": "pg",
                "connection": {"host": "db", "statement_timeout": 1000, "lock_timeout": 10},
                "plugin": {"catalog": {"connection": {"statement_timeout": 9000}}},
            }
        )
    )
    assert dict(target.server_settings) == {"statement_timeout": "9000", "lock_timeout": "10"}


@pytest.mark.parametrize(
    ("option", "value", "key"),
    [
        ("statement_timeout", True, "backend.database.connection.statement_timeout"),
        ("query_timeout", "soon", "backend.database.connection.query_timeout"),
        ("connectionTimeoutMillis", -1, "backend.database.connection.connectionTimeoutMillis"),
        ("connectionString", 5, "backend.database.connection.connectionString"),
    ],
)
def test_bad_values_name_the_key(option: str, value: Any, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve({"client": "pg", "connection": {"host": "db", option: value}})
    assert f"'{key}'" in str(caught.value)


@pytest.mark.anyio
async def test_session_settings_are_in_force_on_a_real_connection(
    postgres_config: dict[str, Any],
) -> None:
    connection = {
        **postgres_config["connection"],
        "statement_timeout": 4321,
        "options": "-c work_mem=5MB",
        "query_timeout": 20000,
    }
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[database_service_factory(), database_plugin("opts", seen=seen)],
        config={"backend": {"database": {**postgres_config, "connection": connection}}},
    ):
        engine = await seen["opts"].get_client()
        async with engine.connect() as conn:
            statement_timeout = (await conn.execute(text("SHOW statement_timeout"))).scalar()
            work_mem = (await conn.execute(text("SHOW work_mem"))).scalar()
            application_name = (await conn.execute(text("SHOW application_name"))).scalar()
    assert (statement_timeout, work_mem, application_name) == (
        "4321ms",
        "5MB",
        "backstage_plugin_opts",
    )
