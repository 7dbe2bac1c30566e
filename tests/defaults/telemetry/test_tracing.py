"""Traces: the caller's ``traceparent`` continues through the request span to the database,
cache and outgoing-call spans, to the call's own ``traceparent``, and into the log lines."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from backstage_runtime.defaults.root_logger import root_logger_service_factory

from ._support import (
    PARENT_SPAN_ID,
    TRACE_ID,
    TRACEPARENT,
    Upstream,
    busy_plugin,
    telemetry_backend,
)

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def upstream_server() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A local HTTP server that records the headers of each request it gets."""
    seen: list[dict[str, str]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/upstream", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/upstream", seen
    finally:
        await runner.cleanup()


def log_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


async def call(url: str, headers: dict[str, str] | None = None) -> None:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        assert response.status == 200, await response.text()


async def test_traceparent_reaches_the_outgoing_call_and_the_log_line() -> None:
    exporter = InMemorySpanExporter()
    stream = io.StringIO()
    upstream = Upstream()
    async with upstream_server() as (url, seen):
        upstream.url = url
        async with telemetry_backend(
            [
                busy_plugin(upstream),
                root_logger_service_factory(stream=stream, env={"NODE_ENV": "production"}),
            ],
            config={"backend": {"tracing": {"enabled": True}}},
            span_processors=[SimpleSpanProcessor(exporter)],
        ) as (backend, _):
            await call(await backend.url("/api/todo/items/1"), {"traceparent": TRACEPARENT})

    spans = exporter.get_finished_spans()
    [server] = [span for span in spans if span.kind is SpanKind.SERVER]
    [client] = [span for span in spans if span.kind is SpanKind.CLIENT and span.name == "GET"]
    server_id = format(server.context.span_id, "016x")

    [outgoing] = seen
    version, trace_id, parent_id, flags = outgoing["traceparent"].split("-")
    assert (version, trace_id, flags) == ("00", TRACE_ID, "01")
    assert parent_id == format(client.context.span_id, "016x")
    assert client.parent is not None
    assert client.parent.span_id == server.context.span_id

    [line] = [entry for entry in log_lines(stream) if entry["message"] == "served item 1"]
    assert line["trace_id"] == TRACE_ID
    assert line["span_id"] == server_id
    assert line["trace_flags"] == "01"


async def test_request_database_and_cache_spans_have_the_right_parents() -> None:
    exporter = InMemorySpanExporter()
    async with telemetry_backend(
        [busy_plugin()], span_processors=[SimpleSpanProcessor(exporter)]
    ) as (backend, telemetry):
        assert telemetry.tracing_enabled
        await call(await backend.url("/api/todo/items/2"), {"traceparent": TRACEPARENT})
        await call(await backend.url("/api/todo/items/3"))

    spans = exporter.get_finished_spans()
    servers = [span for span in spans if span.kind is SpanKind.SERVER]
    assert [span.name for span in servers] == ["GET /api/todo/items/<item_id>"] * 2
    continued, fresh = servers
    assert continued.parent is not None
    assert continued.parent.is_remote
    assert format(continued.parent.span_id, "016x") == PARENT_SPAN_ID
    assert format(continued.context.trace_id, "032x") == TRACE_ID
    assert continued.attributes is not None
    assert continued.attributes["http.route"] == "/api/todo/items/<item_id>"
    assert continued.attributes["http.response.status_code"] == 200
    assert fresh.parent is None
    assert fresh.context.trace_id != continued.context.trace_id

    def children(parent: Any, name: str) -> list[Any]:
        return [
            span
            for span in spans
            if span.name == name
            and span.parent is not None
            and span.parent.span_id == parent.context.span_id
        ]

    for server in servers:
        [statement] = children(server, "SELECT")
        assert statement.kind is SpanKind.CLIENT
        assert statement.attributes["db.system.name"] == "sqlite"
        assert statement.attributes["db.query.text"] == "SELECT 1"
        assert statement.attributes["backstage.plugin.id"] == "todo"
        [get] = children(server, "cache get")
        [_set] = children(server, "cache set")
        assert get.attributes["cache.result"] == "miss"


async def test_an_invalid_traceparent_starts_a_new_trace() -> None:
    exporter = InMemorySpanExporter()
    async with telemetry_backend(
        [busy_plugin()], span_processors=[SimpleSpanProcessor(exporter)]
    ) as (backend, _):
        await call(await backend.url("/api/todo/items/4"), {"traceparent": "00-zz-yy-01"})
    [server] = [span for span in exporter.get_finished_spans() if span.kind is SpanKind.SERVER]
    assert server.parent is None
