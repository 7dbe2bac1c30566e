"""Reading ``backend.cache`` the way Backstage's ``CacheManager.fromConfig`` does."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from ...api import Config, LoggerService, read_duration_from_config
from ...api.errors import ConfigError

__all__ = [
    "CacheSettings",
    "MemcacheSettings",
    "RedisSettings",
    "StoreKind",
    "read_cache_settings",
]

StoreKind = Literal["memory", "redis", "memcache"]

_STORE_KEY = "backend.cache.store"
_CONNECTION_KEY = "backend.cache.connection"
_DEFAULT_TTL_KEY = "backend.cache.defaultTtl"
_STORES = ("memory", "redis", "valkey", "memcache")
_REDIS_SCHEMES = {"redis": "redis", "rediss": "rediss", "valkey": "redis", "valkeys": "rediss"}
_REDIS_CLIENT_KEYS = {
    "namespace",
    "keyPrefixSeparator",
    "clearBatchSize",
    "useUnlink",
    "noNamespaceAffectsAll",
    "socket",
}
_REDIS_SOCKET_KEYS = {"connectTimeout", "socketTimeout", "keepAlive"}
#: node-redis's connect timeout; also our command timeout, so a hung server cannot hold a
#: plugin's request for long.
DEFAULT_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class RedisSettings:
    """How to reach Redis (or Valkey). Timeouts are in seconds."""

    url: str
    use_unlink: bool = True
    connect_timeout: float = DEFAULT_TIMEOUT_MS / 1000
    socket_timeout: float = DEFAULT_TIMEOUT_MS / 1000
    keep_alive: bool = True
    #: Further redis-py connection keywords (``db``, ``username``, ``client_name``, ...) from the
    #: object form of ``backend.cache.connection``; the URL's own values win, as in node-redis.
    client_options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MemcacheSettings:
    """One memcached server."""

    host: str
    port: int


@dataclass(frozen=True)
class CacheSettings:
    """The parsed ``backend.cache`` section.

    A plugin's keys are stored as ``<namespace_prefix><pluginId><key_separator><key>``, which is
    Backstage's layout for the store.
    """

    store: StoreKind
    #: The configured name (``valkey`` stays ``valkey`` here although it runs as ``redis``).
    store_name: str = "memory"
    default_ttl_ms: int | None = None
    namespace_prefix: str = ""
    key_separator: str = ":"
    redis: RedisSettings | None = field(default=None)
    memcache: MemcacheSettings | None = field(default=None)

    def plugin_prefix(self, plugin_id: str) -> str:
        """The prefix of every stored key of ``plugin_id``."""
        return f"{self.namespace_prefix}{plugin_id}{self.key_separator}"


def read_cache_settings(config: Config, logger: LoggerService) -> CacheSettings:
    """Parse ``backend.cache``; a :class:`ConfigError` names the offending key.

    Warns (as Backstage does) about the deprecated ``useRedisSets`` and about a non-memory store
    without its ``backend.cache.<store>`` section.
    """
    store = config.get_optional_string(_STORE_KEY) or "memory"
    if store not in _STORES:
        if store == "infinispan":
            raise ConfigError(
                f"The cache store 'infinispan' at '{_STORE_KEY}' is not supported by "
                "backstage-runtime; use memory, redis, valkey or memcache"
            )
        raise ConfigError(
            f"Unknown cache store: {store} (config key '{_STORE_KEY}'; expected one of "
            f"{', '.join(_STORES)})"
        )
    if config.has("backend.cache.useRedisSets"):
        logger.warn(
            "The 'backend.cache.useRedisSets' configuration key is deprecated and no longer has "
            "any effect."
        )
    if store != "memory" and not config.has(f"backend.cache.{store}"):
        logger.warn(f"No configuration found for cache store '{store}' at 'backend.cache.{store}'.")
    default_ttl_ms = _read_default_ttl(config)
    connection = _read_connection(config, store)
    if store == "memory":
        return CacheSettings(store="memory", store_name=store, default_ttl_ms=default_ttl_ms)
    if store == "memcache":
        return CacheSettings(
            store="memcache",
            store_name=store,
            default_ttl_ms=default_ttl_ms,
            memcache=_memcache_settings(connection),
        )
    options = _connection_options(config, logger)
    url = _redis_url(connection or "redis://localhost:6379", tls=options.tls)
    if store == "valkey":
        _reject_cluster(config, "backend.cache.valkey", logger)
        prefix = config.get_optional_string("backend.cache.valkey.client.keyPrefix") or ""
        return CacheSettings(
            store="redis",
            store_name=store,
            default_ttl_ms=default_ttl_ms,
            namespace_prefix=prefix,
            redis=_with_connection_options(RedisSettings(url=url), options),
        )
    return _redis_cache_settings(config, url, default_ttl_ms, logger, options)


def _with_connection_options(settings: RedisSettings, options: _ConnectionOptions) -> RedisSettings:
    # The connection object is Backstage's documented place for these; it wins over our own
    # backend.cache.redis.client.socket extension.
    return dataclasses.replace(
        settings,
        client_options=dict(options.client_options),
        connect_timeout=(
            settings.connect_timeout if options.connect_timeout is None else options.connect_timeout
        ),
        socket_timeout=(
            settings.socket_timeout if options.socket_timeout is None else options.socket_timeout
        ),
        keep_alive=settings.keep_alive if options.keep_alive is None else options.keep_alive,
    )


def _read_default_ttl(config: Config) -> int | None:
    if not config.has(_DEFAULT_TTL_KEY):
        return None
    duration = read_duration_from_config(config, _DEFAULT_TTL_KEY, allow_milliseconds=True)
    milliseconds = duration.total_seconds() * 1000
    # 0 means "no expiry" for Keyv, as in Backstage.
    return math.ceil(milliseconds) if milliseconds > 0 else None


def _read_connection(config: Config, store: str) -> str | None:
    if not config.has(_CONNECTION_KEY):
        return None
    if _is_object_form(config):
        if store not in ("redis", "valkey"):
            raise ConfigError(
                f"Invalid config at '{_CONNECTION_KEY}': an object is only allowed for the redis "
                f"store, the {store} store takes a connection string"
            )
        return config.get_string(f"{_CONNECTION_KEY}.url")
    return config.get_string(_CONNECTION_KEY)


def _is_object_form(config: Config) -> bool:
    return isinstance(config.get_optional(_CONNECTION_KEY), dict)


@dataclass
class _ConnectionOptions:
    """What the object form of ``backend.cache.connection`` says besides ``url``."""

    client_options: dict[str, Any] = field(default_factory=dict)
    tls: bool = False
    connect_timeout: float | None = None
    socket_timeout: float | None = None
    keep_alive: bool | None = None


# node-redis ``createClient`` options with a redis-py counterpart: name -> (kwarg, kind).
_CLIENT_OPTIONS: dict[str, tuple[str, str]] = {
    "username": ("username", "string"),
    "password": ("password", "string"),
    "database": ("db", "index"),
    "name": ("client_name", "string"),
    # node-redis PINGs every pingInterval ms to keep the connection alive; redis-py PINGs a
    # connection idle for longer than health_check_interval seconds before using it.
    "pingInterval": ("health_check_interval", "milliseconds"),
}
_SOCKET_OPTIONS = {"tls", "connectTimeout", "socketTimeout", "keepAlive"}


def _connection_options(config: Config, logger: LoggerService) -> _ConnectionOptions:
    """Map the object form's node-redis options onto redis-py; warn about the rest."""
    options = _ConnectionOptions()
    if not _is_object_form(config):
        return options
    section = config.get_config(_CONNECTION_KEY)
    ignored: list[str] = []
    names = section.keys()  # a Config, not a dict: keys() is its API
    for name in names:
        key = f"{_CONNECTION_KEY}.{name}"
        if name == "url":
            continue
        if name == "socket":
            ignored += _socket_options(config, key, options)
        elif name in _CLIENT_OPTIONS:
            kwarg, kind = _CLIENT_OPTIONS[name]
            options.client_options[kwarg] = _option_value(config, key, kind)
        else:
            ignored.append(name)
    if ignored:
        logger.warn(
            f"Redis connection options at '{_CONNECTION_KEY}' have no counterpart in "
            f"backstage-runtime's Redis client and are ignored: {', '.join(ignored)}"
        )
    return options


def _socket_options(config: Config, key: str, options: _ConnectionOptions) -> list[str]:
    socket = config.get_config(key)
    names = socket.keys()
    ignored = [f"socket.{name}" for name in names if name not in _SOCKET_OPTIONS]
    options.tls = bool(config.get_optional_boolean(f"{key}.tls"))
    if config.has(f"{key}.connectTimeout"):
        options.connect_timeout = _timeout(config, f"{key}.connectTimeout")
    if config.has(f"{key}.socketTimeout"):
        options.socket_timeout = _timeout(config, f"{key}.socketTimeout")
    if config.has(f"{key}.keepAlive"):
        options.keep_alive = _keep_alive(config, f"{key}.keepAlive")
    return ignored


def _option_value(config: Config, key: str, kind: str) -> Any:
    if kind == "string":
        return config.get_string(key)
    number = config.get_number(key)
    if not math.isfinite(number) or number < 0:
        raise ConfigError(f"Invalid config at '{key}', expected a non-negative number")
    if kind == "index":
        if not float(number).is_integer():
            raise ConfigError(f"Invalid config at '{key}', expected a database number")
        return int(number)
    return number / 1000


def _keep_alive(config: Config, key: str) -> bool:
    value = config.get_optional(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        # node-redis takes a number here (the initial delay in ms): a number enables keep-alive.
        return True
    return config.get_boolean(key)


def _redis_url(url: str, *, tls: bool = False) -> str:
    # Never echo the URL: it usually carries the password.
    problem = f"Invalid Redis connection URL at '{_CONNECTION_KEY}'"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is the validation
    except ValueError as error:
        raise ConfigError(f"{problem}, expected redis://[[user]:password@]host[:port][/db]") from (
            error
        )
    scheme = parts.scheme.lower()
    if scheme == "unix":
        return url
    if scheme not in _REDIS_SCHEMES or not parts.hostname:
        raise ConfigError(
            f"{problem}, expected redis://, rediss://, valkey://, valkeys:// or unix:// with a host"
        )
    scheme = _REDIS_SCHEMES[scheme]
    # node-redis's socket.tls: true turns a redis:// URL into a TLS connection.
    return urlunsplit(parts._replace(scheme="rediss" if tls else scheme))


def _redis_cache_settings(
    config: Config,
    url: str,
    default_ttl_ms: int | None,
    logger: LoggerService,
    options: _ConnectionOptions,
) -> CacheSettings:
    base = "backend.cache.redis.client"
    client = config.get_optional_config(base)
    if client is not None:
        unknown = sorted(set(client.keys()) - _REDIS_CLIENT_KEYS)
        socket = client.get_optional_config("socket")
        if socket is not None:
            unknown += [f"socket.{k}" for k in sorted(set(socket.keys()) - _REDIS_SOCKET_KEYS)]
        if unknown:
            logger.warn(
                f"Unsupported Redis client options at '{base}' are ignored: {', '.join(unknown)}"
            )
    namespace = config.get_optional_string(f"{base}.namespace")
    separator = config.get_optional_string(f"{base}.keyPrefixSeparator") or ":"
    batch = config.get_optional_number(f"{base}.clearBatchSize")
    if batch is not None and (batch < 1 or not float(batch).is_integer()):
        raise ConfigError(f"Invalid config at '{base}.clearBatchSize', expected a positive integer")
    # Validated for compatibility; without a clear() on the cache service it has no effect.
    config.get_optional_boolean(f"{base}.noNamespaceAffectsAll")
    use_unlink = config.get_optional_boolean(f"{base}.useUnlink")
    keep_alive_key = f"{base}.socket.keepAlive"
    keep_alive = _keep_alive(config, keep_alive_key) if config.has(keep_alive_key) else True
    _reject_cluster(config, "backend.cache.redis", logger)
    return CacheSettings(
        store="redis",
        store_name="redis",
        default_ttl_ms=default_ttl_ms,
        namespace_prefix=f"{namespace}{separator}" if namespace else "",
        key_separator=separator,
        redis=_with_connection_options(
            RedisSettings(
                url=url,
                use_unlink=True if use_unlink is None else use_unlink,
                connect_timeout=_timeout(config, f"{base}.socket.connectTimeout"),
                socket_timeout=_timeout(config, f"{base}.socket.socketTimeout"),
                keep_alive=keep_alive,
            ),
            options,
        ),
    )


def _timeout(config: Config, key: str) -> float:
    value = config.get_optional_number(key)
    if value is None:
        return DEFAULT_TIMEOUT_MS / 1000
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"Invalid config at '{key}', expected a positive number of milliseconds")
    return value / 1000


def _reject_cluster(config: Config, base: str, logger: LoggerService) -> None:
    key = f"{base}.cluster"
    if not config.has(key):
        return
    if not config.has(f"{key}.rootNodes"):
        logger.warn(
            f"Redis cluster config at '{key}' has no 'rootNodes' key, defaulting to "
            "non-clustered mode"
        )
        return
    raise ConfigError(
        f"Redis Cluster (config key '{key}') is not supported by backstage-runtime's cache; "
        "point 'backend.cache.connection' at a single Redis endpoint"
    )


def _memcache_settings(connection: str | None) -> MemcacheSettings:
    text = (connection or "localhost:11211").strip()
    if "," in text or " " in text:
        raise ConfigError(
            f"Invalid config at '{_CONNECTION_KEY}': only one memcached server is supported"
        )
    if "@" in text:
        raise ConfigError(
            f"Invalid config at '{_CONNECTION_KEY}': memcached credentials are not supported"
        )
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "11211")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"Invalid config at '{_CONNECTION_KEY}', expected host:port for memcache")
    return MemcacheSettings(host=host, port=int(port))
