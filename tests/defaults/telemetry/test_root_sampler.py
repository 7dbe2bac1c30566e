"""The backend's default sampler decides as the SDK's ``parentbased_always_on`` does, for a span
with no parent (its short way) and for every kind of parent (the SDK's own sampler)."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, SamplingResult
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    TraceFlags,
    TraceState,
    set_span_in_context,
)

from backstage_runtime.defaults.root_http_router._sdk_span import sampler_ignores_attributes
from backstage_runtime.defaults.telemetry._root_sampler import ParentBasedAlwaysOn, default_sampler
from backstage_runtime.defaults.telemetry._sdk import build_tracer_provider
from backstage_runtime.defaults.telemetry._settings import TelemetrySettings

TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C


def parent(*, sampled: bool, remote: bool) -> Context:
    context = SpanContext(
        TRACE_ID,
        0x00F067AA0BA902B7,
        is_remote=remote,
        trace_flags=TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT),
        trace_state=TraceState([("vendor", "value")]),
    )
    return set_span_in_context(NonRecordingSpan(context))


CONTEXTS = {
    "empty": Context(),
    "none (the current one)": None,
    "another key only": Context({"some-key": 1}),
    "sampled local parent": parent(sampled=True, remote=False),
    "unsampled local parent": parent(sampled=False, remote=False),
    "sampled remote parent": parent(sampled=True, remote=True),
    "unsampled remote parent": parent(sampled=False, remote=True),
}


def described(result: SamplingResult) -> tuple[Any, ...]:
    return (result.decision, dict(result.attributes), result.trace_state)


@pytest.mark.parametrize("context", CONTEXTS.values(), ids=CONTEXTS.keys())
@pytest.mark.parametrize("attributes", [None, {}, {"http.request.method": "GET", "n": 1}])
def test_every_decision_is_the_sdks(context: Context | None, attributes: Any) -> None:
    ours = ParentBasedAlwaysOn().should_sample(context, TRACE_ID, "GET", attributes=attributes)
    sdk = ParentBased(ALWAYS_ON).should_sample(context, TRACE_ID, "GET", attributes=attributes)

    assert described(ours) == described(sdk)


def test_a_shared_answer_gives_each_span_its_own_attributes() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBasedAlwaysOn())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")

    first = tracer.start_span("first", context=Context())
    first.set_attribute("only", "first")
    first.end()
    second = tracer.start_span("second", context=Context())
    second.end()

    spans = {span.name: dict(span.attributes or {}) for span in exporter.get_finished_spans()}
    assert spans == {"first": {"only": "first"}, "second": {}}
    assert ParentBasedAlwaysOn().get_description() == ParentBased(ALWAYS_ON).get_description()


@pytest.mark.parametrize(
    ("variable", "ours"),
    [
        (None, True),
        ("parentbased_always_on", True),
        (" ParentBased_Always_On ", True),
        ("always_off", False),
        ("parentbased_traceidratio", False),
    ],
)
def test_the_short_way_is_taken_only_for_the_default_sampler(
    monkeypatch: pytest.MonkeyPatch, variable: str | None, ours: bool
) -> None:
    if variable is None:
        monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    else:
        monkeypatch.setenv("OTEL_TRACES_SAMPLER", variable)

    provider = build_tracer_provider(TelemetrySettings(tracing=True), [])

    assert isinstance(default_sampler(), ParentBasedAlwaysOn) is ours
    assert isinstance(provider.sampler, ParentBasedAlwaysOn) is ours
    if variable == "always_off":
        assert not provider.get_tracer("t").start_span("x").is_recording()
    # Ours, like every sampler of the SDK's, hands start attributes through unread.
    assert sampler_ignores_attributes(provider.get_tracer("t"))
