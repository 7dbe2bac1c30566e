"""A client span per outgoing request, and its W3C ``traceparent`` on the request.

aiohttp's request hooks (``TraceConfig``) see every request the shared session makes, before
its headers go out; so every caller (JWKS fetches, the permission backend, URL readers, plugins)
propagates the current trace without doing anything.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import aiohttp
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

__all__ = ["tracing_trace_config"]

_PROPAGATOR = TraceContextTextMapPropagator()


def tracing_trace_config(tracer: Tracer) -> aiohttp.TraceConfig:
    """Hooks that wrap each request in a ``CLIENT`` span (``<METHOD>``, with
    ``http.request.method``, ``url.full`` without its query, ``server.address``,
    ``server.port`` and ``http.response.status_code``) and send it as ``traceparent``."""

    async def on_request_start(
        _session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        url = params.url
        span = tracer.start_span(
            params.method,
            kind=SpanKind.CLIENT,
            attributes={
                "http.request.method": params.method,
                # Without the query: it may carry tokens.
                "url.full": str(url.with_query(None).with_user(None)),
                "server.address": url.host or "",
                "server.port": url.port or 0,
            },
        )
        context.backstage_span = span
        _PROPAGATOR.inject(params.headers, context=trace.set_span_in_context(span))

    async def on_request_end(
        _session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        span = getattr(context, "backstage_span", None)
        if span is None:
            return
        status = params.response.status
        span.set_attribute("http.response.status_code", status)
        if status >= 400:
            span.set_attribute("error.type", str(status))
            span.set_status(Status(StatusCode.ERROR))
        span.end()

    async def on_request_exception(
        _session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestExceptionParams,
    ) -> None:
        span = getattr(context, "backstage_span", None)
        if span is None:
            return
        span.record_exception(params.exception)
        span.set_attribute("error.type", type(params.exception).__name__)
        span.set_status(Status(StatusCode.ERROR, str(params.exception)))
        span.end()

    config = aiohttp.TraceConfig()
    config.on_request_start.append(on_request_start)
    config.on_request_end.append(on_request_end)
    config.on_request_exception.append(on_request_exception)
    return config
