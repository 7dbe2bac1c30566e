"""The HTTP server metrics of OpenTelemetry's semantic conventions, for every request."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ...http_toolkit import ASGIApp, Receive, Scope, Send, get_request_info
from ._http_attributes import request_attributes, response_attributes

if TYPE_CHECKING:
    from opentelemetry.metrics import Meter

__all__ = ["HttpMetricsMiddleware"]

# The conventions' advice for http.server.request.duration, in seconds.
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)


class HttpMetricsMiddleware:
    """Records ``http.server.request.duration`` (histogram, seconds; method, status code,
    route template, scheme, protocol version, plugin id) and ``http.server.active_requests``
    (up-down counter; method, scheme) for each HTTP request."""

    __slots__ = ("_active", "_duration", "app")

    def __init__(self, app: ASGIApp, meter: Meter) -> None:
        self.app = app
        self._duration = meter.create_histogram(
            "http.server.request.duration",
            unit="s",
            description="Duration of HTTP server requests.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        self._active = meter.create_up_down_counter(
            "http.server.active_requests",
            unit="{request}",
            description="Number of active HTTP server requests.",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, then record it (whatever its outcome)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        attributes = request_attributes(scope)
        active = {"http.request.method": attributes["http.request.method"]}
        active["url.scheme"] = attributes["url.scheme"]
        self._active.add(1, active)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self._active.add(-1, active)
            attributes.update(response_attributes(get_request_info(scope)))
            self._duration.record(time.perf_counter() - started, attributes)
