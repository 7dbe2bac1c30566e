"""A server span per HTTP request, continuing the caller's W3C trace (``traceparent``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from ...http_toolkit import ASGIApp, Receive, Scope, Send, get_request_info
from ._http_attributes import request_attributes, response_attributes

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

__all__ = ["HttpTracingMiddleware"]

_PROPAGATOR = TraceContextTextMapPropagator()


def _carrier(scope: Scope) -> dict[str, str]:
    # Only the two W3C trace-context headers matter to the propagator.
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name in (b"traceparent", b"tracestate"):
            found[name.decode("latin-1")] = value.decode("latin-1")
    return found


class HttpTracingMiddleware:
    """Serves each HTTP request inside a ``SERVER`` span, the child of the caller's span when
    the request carries a valid ``traceparent``. The span is named ``<METHOD> <route>`` once
    a route template is known (else ``<METHOD>``) and carries the semantic-convention HTTP
    attributes; a 5xx sets its status to error. Everything below (log lines, database and
    cache spans, outgoing calls) runs with it as the current span.
    """

    __slots__ = ("_tracer", "app")

    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        self.app = app
        self._tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request inside its span."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = _carrier(scope)
        parent = _PROPAGATOR.extract(carrier) if carrier else None
        attributes = request_attributes(scope)
        method = attributes["http.request.method"]
        attributes["url.path"] = scope["path"]
        with self._tracer.start_as_current_span(
            method if method != "_OTHER" else "HTTP",
            context=parent,
            kind=SpanKind.SERVER,
            attributes=attributes,
        ) as span:
            try:
                await self.app(scope, receive, send)
            finally:
                info = get_request_info(scope)
                found = response_attributes(info)
                span.set_attributes(found)
                route = found.get("http.route")
                if route is not None:
                    span.update_name(f"{method} {route}" if method != "_OTHER" else route)
                status = found.get("http.response.status_code")
                if status is not None and status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
