"""``backend.server.*``: the limits Node's HTTP server puts on each connection, read from config."""

from __future__ import annotations

from dataclasses import dataclass

from ...api import Config, read_duration_from_config
from ...api.errors import ConfigError

__all__ = ["ServerLimits", "read_server_limits"]


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """Per-connection limits, seconds or counts; None means no limit (Node's ``0``).

    The defaults are Node's: 60 s for a request head, 300 s for a whole request, no socket
    inactivity timeout, 2000 headers, no limit on requests per connection.
    """

    #: ``headersTimeout``: from a request's first byte until its head is complete.
    headers_timeout: float | None = 60.0
    #: ``requestTimeout``: from a request's first byte until its body is complete.
    request_timeout: float | None = 300.0
    #: ``timeout``: nothing read or written on the socket for this long closes it.
    socket_timeout: float | None = None
    #: ``maxHeadersCount``: headers past this many are dropped (Node keeps the first ones).
    max_headers_count: int | None = 2000
    #: ``maxRequestsPerSocket``: the response to the last one closes the connection.
    max_requests_per_socket: int | None = None


_DURATIONS = {
    "headersTimeout": "headers_timeout",
    "requestTimeout": "request_timeout",
    "timeout": "socket_timeout",
}
_COUNTS = {
    "maxHeadersCount": "max_headers_count",
    "maxRequestsPerSocket": "max_requests_per_socket",
}


def read_server_limits(config: Config) -> ServerLimits:
    """The :class:`ServerLimits` of ``backend.server``.

    Timeouts are milliseconds as a number or durations (``'30s'``, ISO 8601, ``{seconds: 30}``);
    counts are whole numbers; ``0`` turns a limit off, as in Node. Raises :class:`ConfigError`
    naming the key for anything else.
    """
    values: dict[str, float | int | None] = {}
    for name, field in _DURATIONS.items():
        key = f"backend.server.{name}"
        if config.has(key):
            seconds = read_duration_from_config(config, key, allow_milliseconds=True)
            values[field] = seconds.total_seconds() or None
    for name, field in _COUNTS.items():
        key = f"backend.server.{name}"
        if not config.has(key):
            continue
        value = config.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"Invalid config at '{key}': expected a whole number, 0 or more")
        if value != int(value):
            raise ConfigError(f"Invalid config at '{key}': expected a whole number, got {value}")
        values[field] = int(value) or None
    return ServerLimits(**values)  # type: ignore[arg-type]
