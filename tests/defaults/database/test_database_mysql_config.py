"""How ``backend.database`` resolves for a plugin on MySQL (``client: mysql`` / ``mysql2``)."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.defaults.database import DatabaseManager, MysqlSettings
from backstage_runtime.testing import MockRootLogger, mock_services

MYSQL: dict[str, Any] = {
    "client": "mysql2",
    "connection": {"host": "db.example", "user": "backstage", "password": "hunter2"},
}


def manager(database: dict[str, Any], logger: MockRootLogger | None = None) -> DatabaseManager:
    config = mock_services.root_config({"backend": {"database": database}})
    return DatabaseManager.from_config(config, logger=logger or MockRootLogger())


def mysql(database: dict[str, Any], plugin_id: str = "catalog") -> MysqlSettings:
    settings = manager(database).for_plugin(plugin_id).settings
    assert settings.client == "mysql"
    assert isinstance(settings.target, MysqlSettings)
    return settings.target


@pytest.mark.parametrize("client", ["mysql", "mysql2"])
def test_both_client_names_mean_mysql(client: str) -> None:
    assert mysql({**MYSQL, "client": client}).host == "db.example"


def test_each_plugin_gets_a_database_named_after_it() -> None:
    database = {**MYSQL, "connection": {**MYSQL["connection"], "database": "ignored"}}
    target = mysql(database, "catalog")
    assert target.database == "backstage_plugin_catalog"
    assert (target.host, target.port, target.user, target.password) == (
        "db.example",
        None,
        "backstage",
        "hunter2",
    )
    assert target.ensure_database
    assert mysql({**MYSQL, "prefix": "bs_"}, "search").database == "bs_search"


def test_a_connection_string_is_parsed_as_backstage_does() -> None:
    target = mysql(
        {"client": "mysql", "connection": "mysql://me:p%40ss@db:3307/shared?ssl=true"}, "todo"
    )
    assert (target.user, target.password, target.host, target.port) == ("me", "p@ss", "db", 3307)
    # database mode: the base connection's database is dropped for the plugin's own.
    assert target.database == "backstage_plugin_todo"
    assert isinstance(target.ssl, ssl.SSLContext)
    assert mysql({"client": "mysql", "connection": "mysql://me:pw@db/x"}).port == 3306


def test_plugin_overrides_merge_over_the_base_connection() -> None:
    database = {
        **MYSQL,
        "ensureExists": False,
        "plugin": {
            "catalog": {
                "connection": {"database": "cat", "port": "3310"},
                "ensureExists": True,
            }
        },
    }
    target = mysql(database)
    assert (target.database, target.host, target.port) == ("cat", "db.example", 3310)
    assert target.ensure_database
    assert not mysql(database, "search").ensure_database


def test_a_plugin_overriding_the_client_does_not_inherit_the_base_connection() -> None:
    database = {
        "client": "pg",
        "connection": {"host": "pg.example", "user": "u"},
        "plugin": {"catalog": {"client": "mysql", "connection": "mysql://m:pw@my.example/x"}},
    }
    target = mysql(database)
    assert (target.host, target.user, target.database) == ("my.example", "m", "x")


def test_ssl_object_builds_a_context_and_false_turns_it_off() -> None:
    def ssl_of(value: Any) -> Any:
        return mysql({**MYSQL, "connection": {**MYSQL["connection"], "ssl": value}}).ssl

    unverified = ssl_of({"rejectUnauthorized": False})
    assert isinstance(unverified, ssl.SSLContext)
    assert unverified.verify_mode == ssl.CERT_NONE
    assert ssl_of(False) is None
    assert ssl_of(True).verify_mode == ssl.CERT_REQUIRED


def test_role_is_ignored_with_a_warning() -> None:
    logger = MockRootLogger()
    manager({**MYSQL, "role": "owner"}, logger).for_plugin("catalog")
    warnings = [e for e in logger.entries if e.level == "warn"]
    assert warnings
    assert warnings[0].fields["keys"] == ["backend.database.role"]


def test_the_password_stays_out_of_repr() -> None:
    assert "hunter2" not in repr(mysql(MYSQL))


@pytest.mark.parametrize(
    ("database", "key", "detail"),
    [
        (
            {**MYSQL, "pluginDivisionMode": "schema"},
            "backend.database.pluginDivisionMode",
            "the MySQL driver does not support plugin division mode 'schema'",
        ),
        (
            {"client": "mysql", "connection": "mysql://root@db/x"},
            "backend.database.connection",
            "missing username/password",
        ),
        (
            {"client": "mysql", "connection": "postgresql://root:hunter2@db/x"},
            "backend.database.connection",
            "unknown protocol 'postgresql:'",
        ),
        (
            {"client": "mysql", "connection": "mysql://root:hunter2@db"},
            "backend.database.connection",
            "single path segment",
        ),
        (
            {"client": "mysql", "connection": "mysql://root:hunter2@db:99999/x"},
            "backend.database.connection",
            "malformed URL",
        ),
        (
            {"client": "mysql", "connection": "mysql://root:hunter2@db/x?charset=latin1"},
            "backend.database.connection",
            "unsupported parameter 'charset'",
        ),
        (
            {"client": "mysql", "connection": "mysql://root:hunter2@db/x?ssl=Amazon%20RDS"},
            "backend.database.connection",
            "SSL profile 'Amazon RDS' is not supported",
        ),
        (
            {**MYSQL, "connection": {"host": "db", "socketPath": "/run/mysqld.sock"}},
            "backend.database.connection.socketPath",
            "unsupported MySQL connection option",
        ),
        (
            {**MYSQL, "connection": {"host": "db", "port": True}},
            "backend.database.connection.port",
            "port number",
        ),
        (
            {**MYSQL, "connection": {"host": ""}},
            "backend.database.connection.host",
            "non-empty string",
        ),
        ({**MYSQL, "prefix": "p" * 60}, "backend.database.prefix", "64-character limit"),
        (
            {**MYSQL, "plugin": {"catalog": {"connection": {"database": "d" * 65}}}},
            "backend.database.plugin.catalog.connection.database",
            "64-character limit",
        ),
    ],
)
def test_config_errors_name_the_key(database: dict[str, Any], key: str, detail: str) -> None:
    with pytest.raises(ConfigError) as caught:
        mysql(database)
    message = str(caught.value)
    assert f"'{key}'" in message
    assert detail in message
    assert "hunter2" not in message
