"""The HTTP server's own span and metrics, exactly: names, kinds, attributes, statuses and the
active-requests count, over real sockets (and, for what no route can make happen, an exception
escaping the pipeline, the middleware on its own)."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import anyio
import pytest
from _support.polling import eventually
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    HistogramDataPoint,
    InMemoryMetricReader,
    NumberDataPoint,
    Sum,
)
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, Sampler, SamplingResult
from opentelemetry.trace import SpanKind, StatusCode
from quart import Blueprint

from backstage_runtime import core_services, create_backend_plugin
from backstage_runtime.api.errors import ServiceUnavailableError
from backstage_runtime.defaults.root_http_router._http_metrics import HttpMetricsMiddleware
from backstage_runtime.defaults.root_http_router._http_tracing import HttpTracingMiddleware
from backstage_runtime.defaults.root_logger import root_logger_service_factory
from backstage_runtime.http_toolkit import (
    Receive,
    RequestInfo,
    Scope,
    Send,
    get_request_info,
    set_request_info,
)
from backstage_runtime.testing import TestBackend

from ._support import TRACEPARENT, telemetry_backend

pytestmark = pytest.mark.anyio

SCOPE_NAME = "backstage-service-rootHttpRouter"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)


class Gate:
    """Holds ``GET /api/web/held`` until the test releases it."""

    def __init__(self) -> None:
        self.entered = anyio.Event()
        self.release = anyio.Event()


def web_plugin(gate: Gate | None = None) -> Any:
    """Plugin ``web``: ``GET /items/<item_id>`` (200, logs ``item <item_id>``), ``GET /broken``
    (503), ``GET /held``."""

    def register(env: Any) -> None:
        def init(http_router: Any, logger: Any) -> None:
            blueprint = Blueprint("web", __name__)

            @blueprint.get("/items/<item_id>")
            async def item(item_id: str) -> dict[str, str]:
                logger.info(f"item {item_id}")
                return {"id": item_id}

            @blueprint.get("/broken")
            async def broken() -> dict[str, str]:
                raise ServiceUnavailableError("down for maintenance")

            @blueprint.get("/held")
            async def held() -> dict[str, bool]:
                assert gate is not None
                gate.entered.set()
                await gate.release.wait()
                return {"held": True}

            http_router.use(blueprint)
            http_router.add_auth_policy(path="/", allow="unauthenticated")

        env.register_init(
            deps={"http_router": core_services.http_router, "logger": core_services.logger},
            init=init,
        )

    return create_backend_plugin(plugin_id="web", register=register)


async def fetch(
    backend: TestBackend,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, await backend.url(path), headers=headers) as response,
    ):
        await response.read()
        return response.status


@asynccontextmanager
async def traced(
    stream: io.StringIO | None = None,
) -> AsyncIterator[tuple[TestBackend, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    features: list[Any] = [web_plugin()]
    if stream is not None:
        features.append(root_logger_service_factory(stream=stream, env={"NODE_ENV": "production"}))
    async with telemetry_backend(features, span_processors=[SimpleSpanProcessor(exporter)]) as (
        backend,
        _,
    ):
        yield backend, exporter


def server_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.kind is SpanKind.SERVER]


async def test_a_routed_request_span_is_named_for_its_route_with_every_attribute() -> None:
    async with traced() as (backend, exporter):
        assert await fetch(backend, "/api/web/items/1?full=yes") == 200

    [span] = server_spans(exporter)
    assert span.name == "GET /api/web/items/<item_id>"
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == SCOPE_NAME
    assert dict(span.attributes or {}) == {
        "http.request.method": "GET",
        "url.scheme": "http",
        "network.protocol.version": "1.1",
        "url.path": "/api/web/items/1",
        "http.response.status_code": 200,
        "http.route": "/api/web/items/<item_id>",
        "backstage.plugin.id": "web",
    }
    assert span.status.status_code is StatusCode.UNSET
    assert span.parent is None
    assert list(span.events) == []


async def test_a_5xx_marks_the_span_as_an_error_without_a_description() -> None:
    async with traced() as (backend, exporter):
        assert await fetch(backend, "/api/web/broken") == 503

    [span] = server_spans(exporter)
    assert span.name == "GET /api/web/broken"
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 503
    assert span.attributes["error.type"] == "503"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description is None


async def test_a_request_no_route_takes_is_named_for_its_method() -> None:
    async with traced() as (backend, exporter):
        assert await fetch(backend, "/api/web/nothing") == 404
        assert await fetch(backend, "/.backstage/health/v1/liveness") == 200

    plugin, health = server_spans(exporter)
    assert plugin.name == "GET"
    assert dict(plugin.attributes or {}) == {
        "http.request.method": "GET",
        "url.scheme": "http",
        "network.protocol.version": "1.1",
        "url.path": "/api/web/nothing",
        "http.response.status_code": 404,
        "backstage.plugin.id": "web",
    }
    assert plugin.status.status_code is StatusCode.UNSET
    assert health.name == "GET"
    assert health.attributes is not None
    assert "backstage.plugin.id" not in health.attributes
    assert "http.route" not in health.attributes


async def test_an_unknown_method_is_other_and_names_the_span_http() -> None:
    async with traced() as (backend, exporter):
        assert await fetch(backend, "/api/web/items/1", method="PURGE") == 405

    [span] = server_spans(exporter)
    assert span.name == "HTTP"
    assert span.attributes is not None
    assert span.attributes["http.request.method"] == "_OTHER"


async def test_a_continued_trace_keeps_the_callers_ids_in_the_span_and_the_log_line() -> None:
    stream = io.StringIO()
    async with traced(stream) as (backend, exporter):
        assert await fetch(backend, "/api/web/items/2", headers={"traceparent": TRACEPARENT}) == 200

    [span] = server_spans(exporter)
    assert span.parent is not None
    assert span.parent.is_remote
    assert span.context.trace_id == int(TRACEPARENT.split("-")[1], 16)
    [line] = [
        json.loads(text)
        for text in stream.getvalue().splitlines()
        if text.startswith("{") and json.loads(text)["message"] == "item 2"
    ]
    assert line["trace_id"] == TRACEPARENT.split("-")[1]
    assert line["span_id"] == format(span.context.span_id, "016x")
    assert line["trace_flags"] == "01"


async def test_without_tracing_a_log_line_has_no_trace_fields_even_with_metrics_on() -> None:
    stream = io.StringIO()
    reader = InMemoryMetricReader()
    async with telemetry_backend(
        [
            web_plugin(),
            root_logger_service_factory(stream=stream, env={"NODE_ENV": "production"}),
        ],
        metric_readers=[reader],
    ) as (backend, telemetry):
        assert telemetry.metrics_enabled
        assert not telemetry.tracing_enabled
        assert await fetch(backend, "/api/web/items/3", headers={"traceparent": TRACEPARENT}) == 200

    [line] = [
        json.loads(text)
        for text in stream.getvalue().splitlines()
        if text.startswith("{") and json.loads(text)["message"] == "item 3"
    ]
    assert not {"trace_id", "span_id", "trace_flags"} & set(line)


def http_metrics(reader: InMemoryMetricReader) -> dict[str, Any]:
    data = reader.get_metrics_data()
    assert data is not None
    return {
        metric.name: metric
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        if scope.scope.name == SCOPE_NAME
        for metric in scope.metrics
    }


async def test_the_duration_histogram_has_one_series_per_route_status_and_plugin() -> None:
    reader = InMemoryMetricReader()
    async with telemetry_backend([web_plugin()], metric_readers=[reader]) as (backend, _):
        for path in ("/api/web/items/1", "/api/web/items/2", "/api/web/broken"):
            await fetch(backend, path)
        await fetch(backend, "/api/web/items/1", method="PURGE")
        await fetch(backend, "/.backstage/health/v1/liveness")
        duration = http_metrics(reader)["http.server.request.duration"]

    assert duration.unit == "s"
    assert duration.description == "Duration of HTTP server requests."
    points: list[HistogramDataPoint] = list(duration.data.data_points)
    common = {"url.scheme": "http", "network.protocol.version": "1.1"}
    series = {
        json.dumps(dict(point.attributes or {}), sort_keys=True): point.count for point in points
    }
    expected = [
        (
            {
                "http.request.method": "GET",
                "http.response.status_code": 200,
                "http.route": "/api/web/items/<item_id>",
                "backstage.plugin.id": "web",
            },
            2,
        ),
        (
            {
                "http.request.method": "GET",
                "http.response.status_code": 503,
                "error.type": "503",
                "http.route": "/api/web/broken",
                "backstage.plugin.id": "web",
            },
            1,
        ),
        (
            {
                "http.request.method": "_OTHER",
                "http.response.status_code": 405,
                "backstage.plugin.id": "web",
            },
            1,
        ),
        ({"http.request.method": "GET", "http.response.status_code": 200}, 1),
    ]
    assert series == {
        json.dumps({**common, **attributes}, sort_keys=True): count
        for attributes, count in expected
    }
    for point in points:
        assert tuple(point.explicit_bounds) == BUCKETS
        assert 0 < point.sum < 10


async def test_active_requests_count_a_request_while_it_is_served() -> None:
    gate = Gate()
    reader = InMemoryMetricReader()
    async with (
        telemetry_backend([web_plugin(gate)], metric_readers=[reader]) as (backend, _),
        anyio.create_task_group() as group,
    ):
        statuses: list[int] = []

        async def held() -> None:
            statuses.append(await fetch(backend, "/api/web/held"))

        group.start_soon(held)
        await gate.entered.wait()
        during = http_metrics(reader)["http.server.active_requests"]
        gate.release.set()
        await eventually(lambda: statuses == [200])
        after = http_metrics(reader)["http.server.active_requests"]

    assert during.unit == "{request}"
    assert during.description == "Number of active HTTP server requests."
    assert isinstance(during.data, Sum)
    assert not during.data.is_monotonic
    assert during.data.aggregation_temporality is AggregationTemporality.CUMULATIVE
    key = {"http.request.method": "GET", "url.scheme": "http"}
    [point] = during.data.data_points
    assert isinstance(point, NumberDataPoint)
    assert (dict(point.attributes or {}), point.value) == (key, 1)
    [point] = after.data.data_points
    assert (dict(point.attributes or {}), point.value) == (key, 0)


def http_scope(info: RequestInfo | None) -> Scope:
    scope: Scope = {
        "type": "http",
        "method": "POST",
        "scheme": "https",
        "http_version": "2",
        "path": "/api/web/upload",
        "headers": [],
    }
    if info is not None:
        set_request_info(scope, info)
    return scope


async def failing_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("the pipeline broke")


async def never_receive() -> dict[str, Any]:
    raise AssertionError("not called")  # pragma: no cover


async def never_send(message: MutableMapping[str, Any]) -> None:
    raise AssertionError("not called")  # pragma: no cover


async def test_an_exception_escaping_the_pipeline_is_recorded_on_the_span() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    middleware = HttpTracingMiddleware(failing_app, provider.get_tracer(SCOPE_NAME))
    info = RequestInfo(request_id="r1", started=0.0, plugin_id="web")

    with pytest.raises(RuntimeError, match="the pipeline broke"):
        await middleware(http_scope(info), never_receive, never_send)

    [span] = exporter.get_finished_spans()
    assert span.name == "POST"
    assert span.kind is SpanKind.SERVER
    assert dict(span.attributes or {}) == {
        "http.request.method": "POST",
        "url.scheme": "https",
        "network.protocol.version": "2",
        "url.path": "/api/web/upload",
        "error.type": "incomplete",
        "backstage.plugin.id": "web",
    }
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "RuntimeError: the pipeline broke"
    [event] = span.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert event.attributes["exception.type"] == "RuntimeError"
    assert event.attributes["exception.message"] == "the pipeline broke"


async def test_each_span_ends_as_its_own_response_tells_on_one_middleware() -> None:
    # One middleware, requests alike but for their response: none takes another's end.
    answers = iter([(200, "/api/web/items/<id>"), (503, "/api/web/items/<id>"), (200, None)])

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        info = get_request_info(scope)
        assert info is not None
        info.status, info.route = next(answers)

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    middleware = HttpTracingMiddleware(app, provider.get_tracer(SCOPE_NAME))
    for _ in range(3):
        info = RequestInfo(request_id="r", started=0.0, plugin_id="web")
        await middleware(http_scope(info), never_receive, never_send)

    ok, broken, unrouted = exporter.get_finished_spans()
    assert (ok.name, broken.name, unrouted.name) == (
        "POST /api/web/items/<id>",
        "POST /api/web/items/<id>",
        "POST",
    )
    assert ok.status.status_code is StatusCode.UNSET
    assert broken.status.status_code is StatusCode.ERROR
    assert unrouted.status.status_code is StatusCode.UNSET
    assert broken.attributes is not None
    assert broken.attributes["error.type"] == "503"
    assert ok.attributes is not None
    assert "error.type" not in ok.attributes
    assert unrouted.attributes is not None
    assert "http.route" not in unrouted.attributes


async def test_a_request_without_request_info_keeps_its_start_attributes() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        pass

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    middleware = HttpTracingMiddleware(app, provider.get_tracer(SCOPE_NAME))
    await middleware(http_scope(None), never_receive, never_send)

    [span] = exporter.get_finished_spans()
    assert span.name == "POST"
    assert dict(span.attributes or {}) == {
        "http.request.method": "POST",
        "url.scheme": "https",
        "network.protocol.version": "2",
        "url.path": "/api/web/upload",
    }
    assert span.status.status_code is StatusCode.UNSET


class ReadingSampler(Sampler):
    """A sampler of the operator's: samples everything, noting the attributes it was shown."""

    def __init__(self) -> None:
        self.shown: list[dict[str, Any]] = []

    def should_sample(
        self,
        parent_context: Any,
        trace_id: int,
        name: str,
        kind: Any = None,
        attributes: Any = None,
        links: Any = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        self.shown.append(dict(attributes or {}))
        return ALWAYS_ON.should_sample(parent_context, trace_id, name, kind, attributes, links)

    def get_description(self) -> str:
        return "ReadingSampler"


async def routed_app(scope: Scope, receive: Receive, send: Send) -> None:
    info = get_request_info(scope)
    assert info is not None
    info.status, info.route = 200, "/api/web/upload"


async def one_span(provider: TracerProvider, app: Any = routed_app) -> ReadableSpan:
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    middleware = HttpTracingMiddleware(app, provider.get_tracer(SCOPE_NAME))
    info = RequestInfo(request_id="r", started=0.0, plugin_id="web")
    await middleware(http_scope(info), never_receive, never_send)
    [span] = exporter.get_finished_spans()
    return span


async def test_the_sdk_s_samplers_and_an_operator_s_give_the_same_span() -> None:
    # With the SDK's samplers the attributes are written into the span directly; with any
    # other sampler they go through the SDK's API (the sampler is shown them at the start).
    sampler = ReadingSampler()
    direct = await one_span(TracerProvider())
    through_api = await one_span(TracerProvider(sampler=sampler))

    assert sampler.shown == [
        {
            "http.request.method": "POST",
            "url.scheme": "https",
            "network.protocol.version": "2",
            "url.path": "/api/web/upload",
        }
    ]
    for span in (direct, through_api):
        assert span.name == "POST /api/web/upload"
        assert list((span.attributes or {}).items()) == [
            ("http.request.method", "POST"),
            ("url.scheme", "https"),
            ("network.protocol.version", "2"),
            ("url.path", "/api/web/upload"),
            ("http.response.status_code", 200),
            ("http.route", "/api/web/upload"),
            ("backstage.plugin.id", "web"),
        ]


async def test_a_sampled_out_request_records_nothing_and_keeps_its_ids_current() -> None:
    seen: list[Any] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(trace.get_current_span().get_span_context())
        await routed_app(scope, receive, send)

    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    middleware = HttpTracingMiddleware(app, provider.get_tracer(SCOPE_NAME))
    info = RequestInfo(request_id="r", started=0.0, plugin_id="web")
    await middleware(http_scope(info), never_receive, never_send)

    assert exporter.get_finished_spans() == ()
    [ids] = seen
    assert ids.is_valid
    assert not ids.trace_flags.sampled
    assert trace.get_current_span() is trace.INVALID_SPAN


async def test_span_limits_apply_to_the_server_span_s_attributes() -> None:
    short = await one_span(TracerProvider(span_limits=SpanLimits(max_span_attribute_length=4)))
    few = await one_span(TracerProvider(span_limits=SpanLimits(max_span_attributes=5)))

    assert short.attributes is not None
    assert short.attributes["url.path"] == "/api"
    assert short.attributes["http.route"] == "/api"
    # The SDK keeps the newest: the two oldest start attributes made room.
    assert list(few.attributes or {}) == [
        "network.protocol.version",
        "url.path",
        "http.response.status_code",
        "http.route",
        "backstage.plugin.id",
    ]


async def test_an_attribute_the_request_set_is_replaced_as_the_sdk_replaces_it() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        trace.get_current_span().set_attribute("http.route", "/mine")
        await routed_app(scope, receive, send)

    span = await one_span(TracerProvider(), app)

    attributes = list((span.attributes or {}).items())
    # Set again at the end: the response's route, moved after the response status.
    assert attributes[-2:] == [("http.route", "/api/web/upload"), ("backstage.plugin.id", "web")]


async def test_a_request_that_fails_still_records_its_duration_and_leaves_active() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    middleware = HttpMetricsMiddleware(failing_app, provider.get_meter(SCOPE_NAME))

    with pytest.raises(RuntimeError, match="the pipeline broke"):
        await middleware(http_scope(None), never_receive, never_send)

    found = http_metrics(reader)
    [point] = found["http.server.request.duration"].data.data_points
    assert dict(point.attributes or {}) == {
        "http.request.method": "POST",
        "url.scheme": "https",
        "network.protocol.version": "2",
    }
    assert point.count == 1
    [active] = found["http.server.active_requests"].data.data_points
    assert (dict(active.attributes or {}), active.value) == (
        {"http.request.method": "POST", "url.scheme": "https"},
        0,
    )
    provider.shutdown()
