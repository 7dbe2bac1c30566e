"""A server span per HTTP request, continuing the caller's W3C trace (``traceparent``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind, Status, StatusCode, set_span_in_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from ...http_toolkit import ASGIApp, Receive, Scope, Send, get_request_info
from ._http_attributes import KNOWN_METHODS, response_attributes

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

__all__ = ["HttpTracingMiddleware"]

_PROPAGATOR = TraceContextTextMapPropagator()
_ERROR = Status(StatusCode.ERROR)


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
    attributes; a 5xx sets its status to error, and so does an exception escaping the
    pipeline (recorded on the span as an event). Everything below (log lines, database and
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
        # The current context, looked up once: the SDK would look it up again for the
        # parent, the sampler, the processors and the span's own context.
        current = otel_context.get_current()
        carrier = _carrier(scope)
        parent = _PROPAGATOR.extract(carrier) if carrier else current
        method: str = scope["method"]
        if method not in KNOWN_METHODS:
            method = "_OTHER"
        # start_span and attach rather than start_as_current_span: the same span, current for
        # the same block, without its two generator-based context managers per request.
        span = self._tracer.start_span(
            method if method != "_OTHER" else "HTTP",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": method,
                "url.scheme": scope.get("scheme", "http"),
                "network.protocol.version": scope.get("http_version", "1.1"),
                "url.path": scope["path"],
            },
        )
        token = otel_context.attach(set_span_in_context(span, current))
        try:
            try:
                await self.app(scope, receive, send)
            finally:
                _finish(span, scope, method)
        except Exception as error:
            # As OpenTelemetry's use_span does; BaseExceptions (a cancellation) are no errors.
            if span.is_recording():
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            raise
        finally:
            otel_context.detach(token)
            span.end()


def _finish(span: Span, scope: Scope, method: str) -> None:
    """What the response told: its attributes, the route's name, a 5xx's error status."""
    info = get_request_info(scope)
    found = response_attributes(info)
    span.set_attributes(found)
    if info is None:
        return
    route = info.route
    if route is not None:
        span.update_name(f"{method} {route}" if method != "_OTHER" else route)
    status = info.status
    if status is not None and status >= 500:
        span.set_status(_ERROR)
