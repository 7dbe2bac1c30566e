"""The OpenTelemetry HTTP semantic-convention attributes of an incoming request."""

from __future__ import annotations

from typing import Any

from ...http_toolkit import RequestInfo, Scope

__all__ = ["request_attributes", "response_attributes"]

# Methods outside the known set are reported as _OTHER, as the conventions ask (a client must
# not be able to create a time series per made-up method).
_KNOWN_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
)


def request_attributes(scope: Scope) -> dict[str, Any]:
    """``http.request.method``, ``url.scheme`` and ``network.protocol.version``."""
    method: str = scope["method"]
    return {
        "http.request.method": method if method in _KNOWN_METHODS else "_OTHER",
        "url.scheme": scope.get("scheme", "http"),
        "network.protocol.version": scope.get("http_version", "1.1"),
    }


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
