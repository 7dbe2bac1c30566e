"""A server span per HTTP request, continuing the caller's W3C trace (``traceparent``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanKind,
    Status,
    StatusCode,
    set_span_in_context,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from ...api._otel_context import runtime_context_var, span_key
from ...http_toolkit import ASGIApp, Receive, RequestInfo, Scope, Send, get_request_info
from ._http_attributes import KNOWN_METHODS, MOST_CACHED, response_attributes
from ._sdk_span import sampler_ignores_attributes, set_attributes
from ._server_span_start import ServerSpanStart

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

__all__ = ["HttpTracingMiddleware"]

_PROPAGATOR = TraceContextTextMapPropagator()
_ERROR = Status(StatusCode.ERROR)


class HttpTracingMiddleware:
    """Serves each HTTP request inside a ``SERVER`` span, the child of the caller's span when
    the request carries a valid ``traceparent``. The span is named ``<METHOD> <route>`` once
    a route template is known (else ``<METHOD>``) and carries the semantic-convention HTTP
    attributes; a 5xx sets its status to error, and so does an exception escaping the
    pipeline (recorded on the span as an event). Everything below (log lines, database and
    cache spans, outgoing calls) runs with it as the current span.
    """

    __slots__ = (
        "_blind_sampler",
        "_context_var",
        "_finished",
        "_span_key",
        "_start",
        "_tracer",
        "app",
    )

    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        self.app = app
        self._tracer = tracer
        self._blind_sampler = sampler_ignores_attributes(tracer)
        # The SDK's start_span taken in fewer steps, where the tracer is exactly the SDK's.
        self._start = ServerSpanStart.for_tracer(tracer)
        # OpenTelemetry's current context as the ContextVar under its default runtime context,
        # and the key of the span in a context: set and reset directly (else the API's calls).
        self._context_var = runtime_context_var()
        self._span_key = span_key()
        # What a finished request sets on its span, per (method, status, route, plugin):
        # built once, as a backend has few of those (bounded, like the metrics' attributes).
        self._finished: dict[tuple[Any, ...], _Finish] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request inside its span."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The current context, looked up once: the SDK would look it up again for the
        # parent, the sampler, the processors and the span's own context.
        context_var = self._context_var
        current = context_var.get() if context_var is not None else otel_context.get_current()
        # Only the two W3C trace-context headers matter to the propagator; looked for here
        # rather than in a function of their own (a call per request).
        carrier: dict[str, str] | None = None
        for header, value in scope["headers"]:
            if header == b"traceparent" or header == b"tracestate":
                if carrier is None:
                    carrier = {}
                carrier[header.decode("latin-1")] = value.decode("latin-1")
        parent = _PROPAGATOR.extract(carrier) if carrier is not None else current
        method: str = scope["method"]
        if method not in KNOWN_METHODS:
            method = "_OTHER"
        attributes = {
            "http.request.method": method,
            "url.scheme": scope.get("scheme", "http"),
            "network.protocol.version": scope.get("http_version", "1.1"),
            "url.path": scope["path"],
        }
        name = method if method != "_OTHER" else "HTTP"
        # start_span and attach rather than start_as_current_span: the same span, current for
        # the same block, without its two generator-based context managers per request.
        start = self._start
        if start is not None:
            # The SDK's samplers do not read the attributes: then they are stored without the
            # SDK's cleaning of each value (they are clean: str keys and values).
            span = start.start(name, parent, attributes, self._blind_sampler)
        elif self._blind_sampler:
            # As above, set just after the start (see _sdk_span).
            span = self._tracer.start_span(name, context=parent, kind=SpanKind.SERVER)
            if type(span) is not NonRecordingSpan:
                set_attributes(span, attributes)
        else:
            span = self._tracer.start_span(
                name, context=parent, kind=SpanKind.SERVER, attributes=attributes
            )
        key = self._span_key
        if context_var is not None and key is not None:
            # set_span_in_context and attach: a copy of the context with the span, made current.
            values = current.copy()
            values[key] = span
            token = context_var.set(otel_context.Context(values))
        else:
            token = otel_context.attach(set_span_in_context(span, current))
        try:
            try:
                await self.app(scope, receive, send)
            finally:
                # A span sampled out (the API's non-recording span) records nothing: no end
                # to work out. It stays current all the same, for its ids downstream.
                if type(span) is not NonRecordingSpan:
                    self._finish(span, scope, method)
        except Exception as error:
            # As OpenTelemetry's use_span does; BaseExceptions (a cancellation) are no errors.
            if span.is_recording():
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            raise
        finally:
            if context_var is not None:
                try:
                    context_var.reset(token)
                except Exception:
                    # The API's detach fails the same way, and logs it as OpenTelemetry does.
                    otel_context.detach(token)
            else:
                otel_context.detach(token)
            span.end()

    def _finish(self, span: Span, scope: Scope, method: str) -> None:
        """What the response told: its attributes, the route's name, a 5xx's error status."""
        info = get_request_info(scope)
        if info is None:
            # Served without a root router's request info: nothing is known of the response.
            return
        key = (method, info.status, info.route, info.plugin_id)
        finish = self._finished.get(key)
        if finish is None:
            finish = _Finish(method, info)
            if len(self._finished) < MOST_CACHED:
                self._finished[key] = finish
        set_attributes(span, finish.attributes, finish.name)
        if finish.error:
            span.set_status(_ERROR)


class _Finish:
    """The end of the spans of one (method, status, route, plugin): the response's attributes
    (the SDK copies them, so they are shared), the span's name once a route is known, whether
    the status is an error (a 5xx)."""

    __slots__ = ("attributes", "error", "name")

    def __init__(self, method: str, info: RequestInfo) -> None:
        self.attributes: Mapping[str, Any] = response_attributes(info)
        route = info.route
        self.name: str | None = None
        if route is not None:
            self.name = f"{method} {route}" if method != "_OTHER" else route
        status = info.status
        self.error = status is not None and status >= 500
