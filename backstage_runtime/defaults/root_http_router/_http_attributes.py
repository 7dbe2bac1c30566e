"""The OpenTelemetry HTTP semantic-convention attributes of an incoming request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...http_toolkit import RequestInfo

__all__ = ["KNOWN_METHODS", "MOST_CACHED", "DurationAttributes", "response_attributes"]

#: Methods outside this set are reported as _OTHER, as the conventions ask (a client must not
#: be able to create a time series per made-up method).
KNOWN_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
)

#: Enough for every route template x status x method x plugin of a large backend; past it the
#: attributes (and a span's end) are built per request instead (never an unbounded cache).
MOST_CACHED = 4096


def response_attributes(info: RequestInfo | None) -> dict[str, Any]:
    """``http.response.status_code``, ``http.route`` (the matched route template, when a
    plugin's Quart route took the request), ``error.type`` for a 5xx, and
    ``backstage.plugin.id``."""
    found: dict[str, Any] = {}
    if info is None:
        return found
    status = info.status
    if status is not None:
        found["http.response.status_code"] = status
        if status >= 500:
            found["error.type"] = str(status)
    else:
        # The response never started: the request was cut off (client gone, cancelled).
        found["error.type"] = "incomplete"
    if info.route is not None:
        found["http.route"] = info.route
    if info.plugin_id is not None:
        found["backstage.plugin.id"] = info.plugin_id
    return found


class DurationAttributes:
    """The attributes of one finished request's measurement: ``http.request.method``,
    ``url.scheme``, ``network.protocol.version``, then :func:`response_attributes`; one
    mapping per combination, built once and handed out again (the SDK copies what it is
    given, so nobody writes to them)."""

    __slots__ = ("_built",)

    def __init__(self) -> None:
        self._built: dict[tuple[Any, ...], Mapping[str, Any]] = {}

    @staticmethod
    def key(method: str, scheme: str, version: str, info: RequestInfo | None) -> tuple[Any, ...]:
        """What tells the attributes of two requests apart: equal keys, equal attributes."""
        if info is None:
            return (method, scheme, version)
        return (method, scheme, version, info.status, info.route, info.plugin_id)

    def of(
        self, method: str, scheme: str, version: str, info: RequestInfo | None
    ) -> Mapping[str, Any]:
        """The attributes of a request of ``method`` (already ``_OTHER`` when unknown)."""
        key = self.key(method, scheme, version, info)
        found = self._built.get(key)
        if found is None:
            found = {
                "http.request.method": method,
                "url.scheme": scheme,
                "network.protocol.version": version,
                **response_attributes(info),
            }
            if len(self._built) < MOST_CACHED:
                self._built[key] = found
        return found
