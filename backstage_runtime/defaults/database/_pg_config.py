"""PostgreSQL settings of one plugin: connection, database or schema name, what to create."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ...api.errors import ConfigError
from ...api.services._json import JsonValue
from ._section import DatabaseSection
from ._settings import PgSettings, SslSetting
from ._ssl import SSL_MODES, read_ssl

__all__ = ["MAX_IDENTIFIER_BYTES", "read_pg_settings"]

#: PostgreSQL silently truncates longer identifiers, so a longer name would never match again.
MAX_IDENTIFIER_BYTES = 63
_STRING_FIELDS = ("host", "user", "password", "database", "application_name")
_OBJECT_FIELDS = frozenset({*_STRING_FIELDS, "port", "ssl", "type"})
_URL_SCHEMES = frozenset({"postgres", "postgresql", "postgresql+asyncpg"})


class _Connection(TypedDict, total=False):
    """The fields of a connection string or object that were given."""

    host: str
    port: int
    user: str
    password: str
    database: str
    application_name: str
    ssl: SslSetting


def read_pg_settings(
    section: DatabaseSection,
    *,
    client_overridden: bool,
    division_mode: str,
    prefix: str,
    schema_prefix: str,
) -> PgSettings:
    """Resolve the plugin's PostgreSQL settings the way Backstage's ``computePgPluginConfig``
    does: in ``database`` mode the base ``connection.database`` is ignored and the database is
    ``<prefix><pluginId>``; a plugin that overrides ``client`` does not inherit the base
    connection. Raises :class:`ConfigError` naming the offending key.
    """
    plugin_id = section.plugin_id
    base: _Connection = {}
    if not client_overridden:
        base = _normalize(section.raw("connection"), section.key("connection"))
    plugin = _normalize(section.plugin_raw("connection"), section.plugin_key("connection"))
    if division_mode != "schema":
        base.pop("database", None)
    base.setdefault("application_name", f"backstage_plugin_{plugin_id}")
    merged: _Connection = {**base, **plugin}

    database = merged.get("database")
    schema: str | None = None
    if division_mode == "schema":
        schema = f"{schema_prefix}{plugin_id}"
        _check_length(schema, "schema", section.key("schemaPrefix"))
    elif database is None:
        database = f"{prefix}{plugin_id}"
        _check_length(database, "database", section.key("prefix"))
    if database is not None and "database" in plugin:
        _check_length(database, "database", section.plugin_key("connection.database"))

    ensure_exists = section.boolean("ensureExists")
    ensure_schema_exists = section.boolean(
        "ensureSchemaExists",
        # Backstage reads the per-plugin override from this odd key; the plain one is accepted too.
        plugin_relatives=("getEnsureSchemaExistsConfig", "ensureSchemaExists"),
    )
    ensure_database = database is not None and (ensure_exists is not False)
    return PgSettings(
        host=merged.get("host"),
        port=merged.get("port"),
        user=merged.get("user"),
        password=merged.get("password"),
        database=database,
        ssl=merged.get("ssl"),
        application_name=merged.get("application_name", f"backstage_plugin_{plugin_id}"),
        role=section.string("role"),
        schema=schema,
        ensure_database=ensure_database,
        ensure_schema=schema is not None
        and (bool(ensure_schema_exists) or ensure_exists is not False),
    )


def _normalize(value: JsonValue | None, key: str) -> _Connection:
    """A connection string or object as ``{host, port, user, password, database, ssl,
    application_name}`` (only the fields given)."""
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
            f"Invalid config at '{key}.{unknown[0]}': unsupported PostgreSQL connection option, "
            f"expected one of {', '.join(sorted(_OBJECT_FIELDS))}"
        )
    kind = value.get("type", "default")
    if kind != "default":
        raise ConfigError(
            f"Invalid config at '{key}.type': connection type '{kind}' (azure, cloudsql, rds "
            "token authentication) is not supported by backstage-runtime; use 'default'"
        )
    result: _Connection = {}
    if (host := _text(value, "host", key)) is not None:
        result["host"] = host
    if (user := _text(value, "user", key)) is not None:
        result["user"] = user
    if (password := _text(value, "password", key)) is not None:
        result["password"] = password
    if (database := _text(value, "database", key)) is not None:
        result["database"] = database
    if (application_name := _text(value, "application_name", key)) is not None:
        result["application_name"] = application_name
    if "port" in value:
        result["port"] = _port(value["port"], f"{key}.port")
    if "ssl" in value:
        result["ssl"] = read_ssl(value["ssl"], f"{key}.ssl")
    return result


def _parse_url(value: str, key: str) -> _Connection:
    # The string may hold a password: errors describe it without quoting it.
    try:
        url = make_url(value)
    except ArgumentError:
        raise ConfigError(
            f"Invalid config at '{key}': not a PostgreSQL connection string "
            "(expected postgresql://user:password@host:port/database)"
        ) from None
    if url.drivername not in _URL_SCHEMES:
        raise ConfigError(
            f"Invalid config at '{key}': unsupported scheme '{url.drivername}', expected "
            "postgresql://"
        )
    result: _Connection = {}
    if url.host:
        result["host"] = url.host
    if url.username:
        result["user"] = url.username
    if url.password:
        result["password"] = url.password
    if url.database:
        result["database"] = url.database
    if url.port is not None:
        result["port"] = url.port
    for name, query_value in url.query.items():
        text = query_value if isinstance(query_value, str) else query_value[-1]
        if name == "sslmode":
            if text not in SSL_MODES:
                raise ConfigError(f"Invalid config at '{key}': unknown sslmode '{text}'")
            result["ssl"] = text
        elif name == "ssl":
            result["ssl"] = read_ssl(text.lower() in ("1", "true"), key)
        elif name == "application_name":
            result["application_name"] = text
        else:
            raise ConfigError(
                f"Invalid config at '{key}': unsupported connection string parameter '{name}' "
                "(supported: sslmode, ssl, application_name)"
            )
    return result


def _text(connection: Mapping[str, object], name: str, key: str) -> str | None:
    value = connection.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"Invalid config at '{key}.{name}': expected a non-empty string")
    return value


def _port(value: object, key: str) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ConfigError(f"Invalid config at '{key}': expected a port number")
    return value


def _check_length(name: str, kind: str, key: str) -> None:
    if len(name.encode()) > MAX_IDENTIFIER_BYTES:
        raise ConfigError(
            f"Invalid config at '{key}': the PostgreSQL {kind} name '{name}' exceeds the "
            f"{MAX_IDENTIFIER_BYTES}-byte limit; use a shorter prefix"
        )
