"""MySQL settings of one plugin: connection, database name, whether to create it."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import TypedDict
from urllib.parse import parse_qsl, unquote, urlsplit

from ...api.errors import ConfigError
from ...api.services._json import JsonValue
from ._connection_fields import read_port, read_text
from ._section import DatabaseSection
from ._settings import MysqlSettings
from ._ssl import read_mysql_ssl

__all__ = ["MAX_DATABASE_NAME_CHARS", "read_mysql_settings"]

#: MySQL refuses database names longer than this (characters, not bytes).
MAX_DATABASE_NAME_CHARS = 64
_DEFAULT_PORT = 3306
_OBJECT_FIELDS = frozenset({"host", "port", "user", "password", "database", "ssl"})


class _Connection(TypedDict, total=False):
    """The fields of a connection string or object that were given."""

    host: str
    port: int
    user: str
    password: str
    database: str
    ssl: ssl.SSLContext | None


def read_mysql_settings(
    section: DatabaseSection, *, client_overridden: bool, division_mode: str, prefix: str
) -> MysqlSettings:
    """Resolve the plugin's MySQL settings as Backstage's ``MysqlConnector`` does.

    Only ``database`` division exists; the base ``connection.database`` is ignored and the
    database is the plugin connection's ``database`` or ``<prefix><pluginId>``; a plugin that
    overrides ``client`` does not inherit the base connection. ``ensureExists`` (plugin override
    first, default true) creates it. Raises :class:`ConfigError` naming the offending key.
    """
    if division_mode != "database":
        # Backstage fails the plugin's getClient() with this text; we fail at its start.
        raise ConfigError(
            f"Invalid config at '{section.key('pluginDivisionMode')}': the MySQL driver does "
            f"not support plugin division mode '{division_mode}'"
        )
    base: _Connection = {}
    if not client_overridden:
        base = _normalize(section.raw("connection"), section.key("connection"))
    base.pop("database", None)
    plugin = _normalize(section.plugin_raw("connection"), section.plugin_key("connection"))
    merged: _Connection = {**base, **plugin}
    database = merged.get("database")
    if database is None:
        database = f"{prefix}{section.plugin_id}"
        key = section.key("prefix")
    else:
        key = section.plugin_key("connection.database")
    if len(database) > MAX_DATABASE_NAME_CHARS:
        raise ConfigError(
            f"Invalid config at '{key}': the MySQL database name '{database}' exceeds the "
            f"{MAX_DATABASE_NAME_CHARS}-character limit; use a shorter name or prefix"
        )
    return MysqlSettings(
        host=merged.get("host"),
        port=merged.get("port"),
        user=merged.get("user"),
        password=merged.get("password"),
        database=database,
        ssl=merged.get("ssl"),
        ensure_database=section.boolean("ensureExists") is not False,
    )


def _normalize(value: JsonValue | None, key: str) -> _Connection:
    if value is None:
        return {}
    if isinstance(value, str):
        return _parse_url(value, key)
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"Invalid config at '{key}': expected a connection string or an object, "
            f"got {type(value).__name__}"
        )
    unknown = sorted(set(value) - _OBJECT_FIELDS)
    if unknown:
        raise ConfigError(
            f"Invalid config at '{key}.{unknown[0]}': unsupported MySQL connection option, "
            f"expected one of {', '.join(sorted(_OBJECT_FIELDS))}"
        )
    result: _Connection = {}
    if (host := read_text(value, "host", key)) is not None:
        result["host"] = host
    if (user := read_text(value, "user", key)) is not None:
        result["user"] = user
    # An empty password is a real MySQL setting (a root without one); other fields are not.
    if (password := read_text(value, "password", key, empty=True)) is not None:
        result["password"] = password
    if (database := read_text(value, "database", key)) is not None:
        result["database"] = database
    if "port" in value:
        result["port"] = read_port(value["port"], f"{key}.port")
    if "ssl" in value:
        result["ssl"] = read_mysql_ssl(value["ssl"], f"{key}.ssl")
    return result


def _parse_url(value: str, key: str) -> _Connection:
    """``mysql://user:password@host:port/database?ssl=…`` with Backstage's checks.

    The string holds a password: errors describe what is wrong without quoting it.
    """

    def invalid(reason: str) -> ConfigError:
        return ConfigError(
            f"Invalid config at '{key}': error while parsing MySQL connection string, {reason} "
            "(expected mysql://user:password@host:port/database)"
        )

    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise invalid("malformed URL") from None
    if parts.scheme != "mysql":
        raise invalid(f"unknown protocol '{parts.scheme}:'")
    if not parts.username or not parts.password:
        raise invalid("missing username/password")
    path = parts.path
    if len(path) < 2 or "/" in path[1:]:
        raise invalid("expected a single path segment (the database)")
    result: _Connection = {
        "user": unquote(parts.username),
        "password": unquote(parts.password),
        "host": parts.hostname or "localhost",
        "port": port or _DEFAULT_PORT,
        "database": unquote(path[1:]),
    }
    for name, text in parse_qsl(parts.query, keep_blank_values=True):
        if name == "ssl":
            flag = {"true": True, "1": True, "false": False, "0": False}.get(text.lower())
            result["ssl"] = read_mysql_ssl(text if flag is None else flag, key)
        elif name != "debug":  # mysql2's protocol dump: aiomysql has no counterpart
            raise invalid(f"unsupported parameter '{name}' (supported: ssl)")
    return result
