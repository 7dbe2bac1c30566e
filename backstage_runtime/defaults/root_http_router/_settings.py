"""The smaller ``backend.*`` settings of the root HTTP router."""

from __future__ import annotations

from ...api import Config, read_duration_from_config
from ...api.errors import ConfigError

__all__ = ["read_health_headers", "read_keep_alive_timeout", "read_server_shutdown_delay"]

_DEFAULT_KEEP_ALIVE_SECONDS = 5.0


def read_health_headers(config: Config) -> dict[str, str]:
    """``backend.health.headers``: extra headers on both health responses; every name and value
    must be a non-empty string.
    """
    headers = config.get_optional_config("backend.health.headers")
    if headers is None:
        return {}
    result: dict[str, str] = {}
    names = headers.keys()
    for name in names:
        value = headers.get(name)
        if not name.strip() or not isinstance(value, str) or not value:
            raise ConfigError(
                f"Invalid health header '{name}' at backend.health.headers: name and value must "
                "be non-empty strings"
            )
        result[name] = value
    return result


def read_keep_alive_timeout(config: Config) -> float:
    """``backend.server.keepAliveTimeout`` in seconds: milliseconds as a number, or a duration;
    default 5 s (Node's).
    """
    key = "backend.server.keepAliveTimeout"
    if not config.has(key):
        return _DEFAULT_KEEP_ALIVE_SECONDS
    return read_duration_from_config(config, key, allow_milliseconds=True).total_seconds()


def read_server_shutdown_delay(config: Config) -> float:
    """``backend.lifecycle.serverShutdownDelay`` in seconds (default 0): how long the server
    keeps serving after readiness turned 503, so load balancers notice before it stops accepting.
    """
    key = "backend.lifecycle.serverShutdownDelay"
    if not config.has(key):
        return 0.0
    return read_duration_from_config(config, key).total_seconds()
