"""OTLP/HTTP exports reach a collector (a local server decoding the protobuf bodies)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from _support.polling import eventually
from aiohttp import web
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ._support import TRACE_ID, TRACEPARENT, busy_plugin, telemetry_backend

pytestmark = pytest.mark.anyio


class Collector:
    def __init__(self) -> None:
        self.span_names: list[tuple[str, str]] = []
        self.metric_names: set[str] = set()
        self.headers: list[str] = []

    async def traces(self, request: web.Request) -> web.Response:
        self.headers.append(request.headers.get("x-tenant", ""))
        body = ExportTraceServiceRequest.FromString(await request.read())
        for resource in body.resource_spans:
            for scope in resource.scope_spans:
                for span in scope.spans:
                    self.span_names.append((span.name, span.trace_id.hex()))
        return web.Response(body=b"", content_type="application/x-protobuf")

    async def metrics(self, request: web.Request) -> web.Response:
        body = ExportMetricsServiceRequest.FromString(await request.read())
        for resource in body.resource_metrics:
            for scope in resource.scope_metrics:
                self.metric_names.update(metric.name for metric in scope.metrics)
        return web.Response(body=b"", content_type="application/x-protobuf")


@asynccontextmanager
async def collector() -> AsyncIterator[tuple[str, Collector]]:
    received = Collector()
    app = web.Application()
    app.router.add_post("/v1/traces", received.traces)
    app.router.add_post("/v1/metrics", received.metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", received
    finally:
        await runner.cleanup()


async def test_spans_and_metrics_are_exported_over_otlp_http() -> None:
    async with collector() as (url, received):
        config = {
            "backend": {
                "metrics": {
                    "otlp": {"endpoint": f"{url}/v1/metrics", "interval": {"milliseconds": 100}}
                },
                "tracing": {
                    "otlp": {"endpoint": f"{url}/v1/traces", "headers": {"x-tenant": "team-a"}}
                },
            }
        }
        async with telemetry_backend([busy_plugin()], config=config) as (backend, telemetry):
            assert telemetry.metrics_enabled
            assert telemetry.tracing_enabled
            async with (
                aiohttp.ClientSession() as session,
                session.get(
                    await backend.url("/api/todo/items/5"), headers={"traceparent": TRACEPARENT}
                ) as response,
            ):
                assert response.status == 200
            await eventually(
                lambda: "http.server.request.duration" in received.metric_names, timeout=10
            )
        # The batch of spans is flushed when the backend stops.
        assert ("GET /api/todo/items/<item_id>", TRACE_ID) in received.span_names
        assert ("SELECT", TRACE_ID) in received.span_names
        assert set(received.headers) == {"team-a"}
