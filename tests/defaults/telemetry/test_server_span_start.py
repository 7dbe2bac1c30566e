"""The server span's own start gives what the SDK's ``Tracer.start_span`` gives: the same span
class with the same fields, the same ids and flags, the same calls to the sampler, the span
processors and the SDK's span counters, for every kind of parent, sampler and limit."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import (
    ReadableSpan,
    SpanLimits,
    SpanProcessor,
    Tracer,
    TracerProvider,
    _TracerConfig,
)
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    TraceFlags,
    TraceState,
    set_span_in_context,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from backstage_runtime.api._otel_context import runtime_context_var, span_key
from backstage_runtime.defaults.root_http_router._http_tracing import HttpTracingMiddleware
from backstage_runtime.defaults.root_http_router._sdk_span import sampler_ignores_attributes
from backstage_runtime.defaults.root_http_router._server_span_start import ServerSpanStart
from backstage_runtime.defaults.telemetry._root_sampler import ParentBasedAlwaysOn

ATTRIBUTES = {
    "http.request.method": "GET",
    "url.scheme": "http",
    "network.protocol.version": "1.1",
    "url.path": "/api/todo/items/1",
}


class CountingIds(IdGenerator):
    """Ids from counters, restartable, so that two starts can be given the same ones; every
    other trace id is not random (the flag the SDK copies into the span's trace flags)."""

    def __init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        self.next_span = 0x1000
        self.next_trace = 0xABC0

    def generate_span_id(self) -> int:
        self.next_span += 1
        return self.next_span

    def generate_trace_id(self) -> int:
        self.next_trace += 1
        return self.next_trace

    def is_trace_id_random(self) -> bool:
        return self.next_trace % 2 == 0


class Recording(SpanProcessor):
    """What the processors are told: each start (span, parent context) and each end."""

    def __init__(self) -> None:
        self.started: list[tuple[Any, Context | None]] = []
        self.ended: list[ReadableSpan] = []

    def on_start(self, span: Any, parent_context: Context | None = None) -> None:
        self.started.append((span, parent_context))

    def on_end(self, span: ReadableSpan) -> None:
        self.ended.append(span)


class VendorSampler(Sampler):
    """An operator's sampler: reads the start attributes, adds one, records without sampling
    and sets a trace state."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Any = None,
        links: Sequence[Any] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        self.seen.append(dict(attributes or {}))
        return SamplingResult(
            Decision.RECORD_ONLY,
            {**(attributes or {}), "vendor.rule": "keep"},
            TraceState([("vendor", "v1")]),
        )

    def get_description(self) -> str:
        return "VendorSampler"


def parent_context(*, sampled: bool, remote: bool, random: bool = False) -> Context:
    flags = TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT
    if random:
        flags |= TraceFlags.RANDOM_TRACE_ID
    span_context = SpanContext(
        0x0AF7651916CD43DD8448EB211C80319C,
        0x00F067AA0BA902B7,
        is_remote=remote,
        trace_flags=TraceFlags(flags),
        trace_state=TraceState([("caller", "state")]),
    )
    return set_span_in_context(NonRecordingSpan(span_context))


CONTEXTS = {
    "empty": lambda: Context(),
    "another key only": lambda: Context({"some-key": 1}),
    "not a span under the span key": lambda: Context({trace.propagation._SPAN_KEY: "x"}),
    "invalid parent": lambda: set_span_in_context(NonRecordingSpan(trace.INVALID_SPAN_CONTEXT)),
    "sampled local parent": lambda: parent_context(sampled=True, remote=False),
    "unsampled local parent": lambda: parent_context(sampled=False, remote=False),
    "sampled remote parent, random trace id": lambda: parent_context(
        sampled=True, remote=True, random=True
    ),
    "unsampled remote parent": lambda: parent_context(sampled=False, remote=True),
    "traceparent header": lambda: TraceContextTextMapPropagator().extract(
        {
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "tracestate": "rojo=00f067aa0ba902b7",
        }
    ),
}

SAMPLERS = {
    "backend default": ParentBasedAlwaysOn,
    "SDK parent-based always on": lambda: ParentBased(ALWAYS_ON),
    "always off": lambda: ALWAYS_OFF,
    "ratio": lambda: ParentBased(TraceIdRatioBased(0.5)),
    "operator's, reading attributes": VendorSampler,
}


class World:
    """A tracer provider with counting ids and a recording processor."""

    def __init__(
        self,
        sampler: Sampler,
        limits: SpanLimits | None = None,
        meter_provider: MeterProvider | None = None,
        *,
        random_ids: bool = False,
    ) -> None:
        # The SDK's RandomIdGenerator draws from the random module: reseeded, it repeats.
        self.ids: IdGenerator = RandomIdGenerator() if random_ids else CountingIds()
        self.processor = Recording()
        self.provider = TracerProvider(
            sampler=sampler,
            id_generator=self.ids,
            span_limits=limits,
            meter_provider=meter_provider,
        )
        self.provider.add_span_processor(self.processor)
        self.tracer = self.provider.get_tracer("backstage-service-rootHttpRouter")

    def restart_ids(self) -> None:
        if isinstance(self.ids, CountingIds):
            self.ids.restart()
        else:
            random.seed(1234)

    def both(self, context: Context, name: str = "GET") -> tuple[Any, Any]:
        """The SDK's span and ours, started with the same ids in the same context."""
        self.restart_ids()
        sdk = self.tracer.start_span(
            name, context=context, kind=SpanKind.SERVER, attributes=ATTRIBUTES
        )
        self.restart_ids()
        start = ServerSpanStart.for_tracer(self.tracer)
        assert start is not None
        clean = sampler_ignores_attributes(self.tracer)
        ours = start.start(name, context, ATTRIBUTES, clean)
        return sdk, ours


def fields(span: Any) -> dict[str, Any]:
    """A span's fields, with its lock left out and its containers as their contents."""
    described = dict(vars(span))
    assert type(described.pop("_lock")) is type(threading.Lock())
    described.pop("_start_time")
    attributes = described.pop("_attributes")
    described["_attributes"] = (
        type(attributes),
        list(attributes.items()),
        attributes.maxlen,
        attributes.max_value_len,
        attributes.dropped,
        attributes._immutable,
    )
    for name in ("_events", "_links"):
        # The server span's are empty tuples until the first event or link.
        bounded = described.pop(name)
        described[name] = (list(bounded), getattr(bounded, "dropped", 0))
    return described


@pytest.mark.parametrize("make_context", CONTEXTS.values(), ids=CONTEXTS.keys())
@pytest.mark.parametrize("make_sampler", SAMPLERS.values(), ids=SAMPLERS.keys())
@pytest.mark.parametrize("random_ids", [False, True], ids=["counting ids", "SDK's random ids"])
def test_the_span_is_the_one_start_span_makes(
    make_context: Any, make_sampler: Any, random_ids: bool
) -> None:
    world = World(make_sampler(), random_ids=random_ids)
    context = make_context()
    sdk, ours = world.both(context)
    assert isinstance(ours, type(sdk))
    assert type(ours).__name__ == type(sdk).__name__
    assert ours.get_span_context() == sdk.get_span_context()
    assert ours.get_span_context().trace_flags == sdk.get_span_context().trace_flags
    if isinstance(sdk, NonRecordingSpan):
        assert world.processor.started == []
        return
    assert fields(ours) == fields(sdk)
    # Each processor was told of each start with the same parent context.
    assert [(span, parent) for span, parent in world.processor.started] == [
        (sdk, context),
        (ours, context),
    ]
    sdk.end()
    ours.end()
    first, second = world.processor.ended
    assert type(second) is type(first) is ReadableSpan
    assert set(vars(second)) == set(vars(first))
    assert exported(second) == exported(first)


def exported(span: ReadableSpan) -> dict[str, Any]:
    """What an exporter sees of an ended span, its times left out."""
    described: dict[str, Any] = json.loads(span.to_json())
    del described["start_time"], described["end_time"]
    for event in described["events"]:
        del event["timestamp"]
    return described


def test_an_operator_s_sampler_reads_the_start_attributes_it_would_read_in_the_sdk() -> None:
    sampler = VendorSampler()
    world = World(sampler)
    sdk, ours = world.both(Context())
    assert sampler.seen == [ATTRIBUTES, ATTRIBUTES]
    assert dict(ours.attributes) == dict(sdk.attributes) == {**ATTRIBUTES, "vendor.rule": "keep"}


@pytest.mark.parametrize(
    "limits",
    [SpanLimits(max_span_attributes=2), SpanLimits(max_span_attribute_length=2)],
    ids=["two attributes at most", "values of two characters at most"],
)
def test_span_limits_apply_to_the_start_attributes_as_in_the_sdk(limits: SpanLimits) -> None:
    world = World(ParentBasedAlwaysOn(), limits)
    sdk, ours = world.both(Context())
    assert fields(ours) == fields(sdk)
    assert len(ours.attributes) <= 2 or all(len(str(v)) <= 2 for v in ours.attributes.values())


def test_events_and_links_keep_the_sdk_s_limits_when_they_come() -> None:
    world = World(ParentBasedAlwaysOn(), SpanLimits(max_events=1, max_links=1))
    sdk, ours = world.both(Context())
    for span in (sdk, ours):
        span.add_event("first")
        span.record_exception(ValueError("second"))
        span.add_link(SpanContext(7, 8, is_remote=True))
        span.add_link(SpanContext(9, 10, is_remote=True))
        span.end()
    first, second = world.processor.ended
    assert (second.dropped_events, second.dropped_links) == (1, 1)
    assert exported(second) == exported(first)
    # Without events or links a span reports none, and none dropped.
    sdk, ours = world.both(Context())
    sdk.end()
    ours.end()
    assert (world.processor.ended[-1].events, world.processor.ended[-1].dropped_events) == ((), 0)
    assert exported(world.processor.ended[-1]) == exported(world.processor.ended[-2])


def test_the_span_s_api_works_on_it_as_on_the_sdk_s() -> None:
    world = World(ParentBasedAlwaysOn())
    sdk, ours = world.both(Context())
    for span in (sdk, ours):
        span.set_attribute("todo.item", "1")
        span.add_event("checked", {"n": 1})
        span.add_link(SpanContext(7, 8, is_remote=True), {"why": "batch"})
        span.update_name("GET /api/todo/items/<item_id>")
        span.record_exception(ValueError("bad item"))
        span.set_status(trace.Status(trace.StatusCode.ERROR, "bad item"))
        span.end()
    first, second = world.processor.ended
    assert [event.name for event in second.events] == [event.name for event in first.events]
    assert dict(second.attributes or {}) == dict(first.attributes or {})
    assert second.name == first.name == "GET /api/todo/items/<item_id>"
    assert [dict(link.attributes or {}) for link in second.links] == [{"why": "batch"}]
    assert second.status.status_code is trace.StatusCode.ERROR
    # Ended is ended: the SDK's warning, nothing changes.
    ours.set_attribute("late", True)
    assert "late" not in (second.attributes or {})


def test_the_sdk_s_span_counters_count_our_spans_as_theirs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED", "true")
    reader = InMemoryMetricReader()
    world = World(ParentBasedAlwaysOn(), meter_provider=MeterProvider(metric_readers=[reader]))
    sdk, ours = world.both(Context())

    def counts() -> dict[str, int]:
        data = reader.get_metrics_data()
        assert data is not None
        return {
            metric.name: int(sum(getattr(point, "value", 0) for point in metric.data.data_points))
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name in ("otel.sdk.span.live", "otel.sdk.span.started")
        }

    assert counts() == {"otel.sdk.span.live": 2, "otel.sdk.span.started": 2}
    ours.end()
    sdk.end()
    assert counts() == {"otel.sdk.span.live": 0, "otel.sdk.span.started": 2}


def test_a_disabled_tracer_makes_non_recording_spans_of_the_parent() -> None:
    world = World(ParentBasedAlwaysOn())
    tracer: Any = world.tracer
    tracer._tracer_config = _TracerConfig(is_enabled=False)
    context = parent_context(sampled=True, remote=True)
    sdk, ours = world.both(context)
    assert type(ours) is type(sdk) is NonRecordingSpan
    assert ours.get_span_context() == sdk.get_span_context()
    assert world.processor.started == []


def test_a_tracer_that_is_not_exactly_the_sdk_s_is_started_by_its_own_start_span() -> None:
    world = World(ParentBasedAlwaysOn())

    class Subclassed(Tracer):
        pass

    subclassed = Subclassed.__new__(Subclassed)
    vars(subclassed).update(vars(world.tracer))
    assert ServerSpanStart.for_tracer(subclassed) is None
    assert ServerSpanStart.for_tracer(trace.NoOpTracer()) is None
    assert ServerSpanStart.for_tracer(world.tracer) is not None
    tracer: Any = world.tracer
    del tracer._tracer_metrics
    assert ServerSpanStart.for_tracer(tracer) is None


def test_the_runtime_context_var_is_what_the_api_reads_and_writes() -> None:
    var = runtime_context_var()
    assert var is not None
    token = otel_context.attach(Context({"a": 1}))
    try:
        assert var.get() is otel_context.get_current()
    finally:
        otel_context.detach(token)
    token = var.set(Context({"b": 2}))
    try:
        assert otel_context.get_current() == {"b": 2}
    finally:
        var.reset(token)
    assert span_key() == trace.propagation._SPAN_KEY


def test_another_runtime_context_has_no_var_to_use(monkeypatch: pytest.MonkeyPatch) -> None:
    class Elsewhere(ContextVarsRuntimeContext):
        """An operator's runtime context (OTEL_PYTHON_CONTEXT), here a subclass."""

    monkeypatch.setattr(otel_context, "_RUNTIME_CONTEXT", Elsewhere())
    assert runtime_context_var() is None


@pytest.mark.anyio
@pytest.mark.parametrize("runtime", ["contextvars", "an operator's"])
async def test_the_request_span_is_current_inside_and_gone_after(
    runtime: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if runtime != "contextvars":

        class Elsewhere(ContextVarsRuntimeContext):
            """An operator's runtime context."""

        monkeypatch.setattr(otel_context, "_RUNTIME_CONTEXT", Elsewhere())
    world = World(ParentBasedAlwaysOn())
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(trace.get_current_span())

    middleware = HttpTracingMiddleware(app, world.tracer)
    assert (middleware._context_var is None) is (runtime != "contextvars")
    before = otel_context.get_current()
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/todo/items/1",
        "headers": [(b"traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")],
    }

    async def receive() -> Any:
        return {"type": "http.request"}

    async def send(message: Any) -> None:
        pass

    await middleware(scope, receive, send)
    (span,) = seen
    assert span.get_span_context().trace_id == 0x0AF7651916CD43DD8448EB211C80319C
    assert otel_context.get_current() is before
    (ended,) = world.processor.ended
    assert ended.context == span.get_span_context()
    assert ended.parent is not None
    assert ended.parent.span_id == 0xB7AD6B7169203331


def test_ending_twice_warns_and_hands_the_processors_one_span(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = World(ParentBasedAlwaysOn())
    _, ours = world.both(Context())
    ours.end()
    ended_at = ours.end_time
    ours.end()
    assert ours.end_time == ended_at
    assert len(world.processor.ended) == 1
    assert "Calling end() on an ended span." in caplog.text
