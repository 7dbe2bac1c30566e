"""PostgreSQL settings of one plugin: connection, database or schema name, what to create."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from ...api.errors import ConfigError
from ...api.services._json import JsonValue
from ._connection_fields import read_port, read_text
from ._section import DatabaseSection
from ._settings import PgSettings, SslSetting
from ._ssl import SSL_MODES, read_ssl

__all__ = ["MAX_IDENTIFIER_BYTES", "read_pg_settings"]

#: PostgreSQL silently truncates longer identifiers, so a longer name would never match again.
MAX_IDENTIFIER_BYTES = 63
_STRING_FIELDS = ("host", "user", "password", "database", "application_name")
_OBJECT_FIELDS = frozenset({*_STRING_FIELDS, "port", "ssl", "type"})
# node-postgres options (knex hands it the connection object) that it sends to the server as
# startup parameters: asyncpg's server_settings are sent the same way.
_SERVER_SETTINGS = (
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
    "options",
    "client_encoding",
)
# node-postgres client-side timeouts in milliseconds -> asyncpg connect() keywords in seconds.
_CONNECT_TIMEOUTS = {"connectionTimeoutMillis": "timeout", "query_timeout": "command_timeout"}
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
    server_settings: dict[str, str]
    connect_options: dict[str, float | None]
    #: Keys of the connection object with no asyncpg counterpart (full config keys).
    ignored: list[str]


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
    # A plugin's connection object adds to the base one's session settings, key by key.
    server_settings = {**base.get("server_settings", {}), **plugin.get("server_settings", {})}
    connect_options = {**base.get("connect_options", {}), **plugin.get("connect_options", {})}

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
        server_settings=server_settings,
        connect_options=connect_options,
        ignored_keys=(*base.get("ignored", []), *plugin.get("ignored", [])),
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
    extra = _extra_options(value, key)
    kind = value.get("type", "default")
    if kind != "default":
        raise ConfigError(
            f"Invalid config at '{key}.type': connection type '{kind}' (azure, cloudsql, rds "
            "token authentication) is not supported by backstage-runtime; use 'default'"
        )
    result: _Connection = {}
    if (host := read_text(value, "host", key)) is not None:
        result["host"] = host
    if (user := read_text(value, "user", key)) is not None:
        result["user"] = user
    if (password := read_text(value, "password", key)) is not None:
        result["password"] = password
    if (database := read_text(value, "database", key)) is not None:
        result["database"] = database
    if (application_name := read_text(value, "application_name", key)) is not None:
        result["application_name"] = application_name
    if "port" in value:
        result["port"] = read_port(value["port"], f"{key}.port")
    if "ssl" in value:
        result["ssl"] = read_ssl(value["ssl"], f"{key}.ssl")
    if "application_name" not in result and (
        fallback := read_text(value, "fallback_application_name", key)
    ):
        result["application_name"] = fallback
    if "connectionString" in value:
        # node-postgres lays the parsed string over the object: the string's fields win.
        text = value["connectionString"]
        if not isinstance(text, str):
            raise ConfigError(f"Invalid config at '{key}.connectionString': expected a string")
        parsed = _parse_url(text, f"{key}.connectionString")
        result.update(parsed)
    result.update(extra)
    return result


def _extra_options(value: Mapping[str, object], key: str) -> _Connection:
    """The node-postgres options beyond host/port/user/...: those asyncpg can honour, and the
    rest listed as ignored (warned about when the plugin's database is set up)."""
    server_settings: dict[str, str] = {}
    connect_options: dict[str, float | None] = {}
    ignored: list[str] = []
    for name, item in value.items():
        if name in _OBJECT_FIELDS or name in ("connectionString", "fallback_application_name"):
            continue
        if name in _SERVER_SETTINGS:
            server_settings[name] = _setting(item, f"{key}.{name}")
        elif name in _CONNECT_TIMEOUTS:
            milliseconds = _milliseconds(item, f"{key}.{name}")
            if milliseconds > 0:
                connect_options[_CONNECT_TIMEOUTS[name]] = milliseconds / 1000
            elif name == "query_timeout":
                # node-postgres's "no timeout": statements may then wait forever.
                connect_options["command_timeout"] = None
            # connectionTimeoutMillis 0 leaves the pool's connect timeout in force.
        else:
            ignored.append(f"{key}.{name}")
    extra: _Connection = {}
    if server_settings:
        extra["server_settings"] = server_settings
    if connect_options:
        extra["connect_options"] = connect_options
    if ignored:
        extra["ignored"] = ignored
    return extra


def _setting(value: object, key: str) -> str:
    # node-postgres sends numbers as their decimal text, e.g. statement_timeout: 5000 -> "5000".
    if isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
        raise ConfigError(f"Invalid config at '{key}': expected a string or a number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _milliseconds(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"Invalid config at '{key}': expected a number of milliseconds")
    return float(value)


def _parse_url(value: str, key: str) -> _Connection:
    # Only a connection string needs SQLAlchemy's parser; a config of fields does not.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

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


def _check_length(name: str, kind: str, key: str) -> None:
    if len(name.encode()) > MAX_IDENTIFIER_BYTES:
        raise ConfigError(
            f"Invalid config at '{key}': the PostgreSQL {kind} name '{name}' exceeds the "
            f"{MAX_IDENTIFIER_BYTES}-byte limit; use a shorter prefix"
        )
