"""The backend's own tracer provider hands every span to its processors, in the order they were
added, whether it holds one processor (called directly) or more."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from backstage_runtime.defaults.telemetry._sdk import build_tracer_provider
from backstage_runtime.defaults.telemetry._settings import TelemetrySettings


class Recording(SpanProcessor):
    """Writes ``<name> start <span>`` / ``<name> end <span>`` to a shared list."""

    def __init__(self, name: str, seen: list[str]) -> None:
        self._name = name
        self._seen = seen

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        self._seen.append(f"{self._name} start {span.name}")

    def on_end(self, span: ReadableSpan) -> None:
        self._seen.append(f"{self._name} end {span.name}")


def settings() -> TelemetrySettings:
    return TelemetrySettings(tracing=True)


def test_a_single_processor_sees_each_span_start_and_end() -> None:
    seen: list[str] = []
    provider = build_tracer_provider(settings(), [Recording("only", seen)])

    provider.get_tracer("t").start_span("one").end()

    assert seen == ["only start one", "only end one"]


def test_processors_see_each_span_in_the_order_they_were_added() -> None:
    seen: list[str] = []
    provider = build_tracer_provider(settings(), [Recording("first", seen)])
    # A processor added later (as an operator's code may) joins the one there is, after it.
    provider.add_span_processor(Recording("second", seen))

    with provider.get_tracer("t").start_as_current_span("one"):
        pass

    assert seen == ["first start one", "second start one", "first end one", "second end one"]


def test_the_exported_span_is_the_sdk_s_whole_span() -> None:
    exporter = InMemorySpanExporter()
    provider = build_tracer_provider(settings(), [SimpleSpanProcessor(exporter)])

    span = provider.get_tracer("t").start_span("one", attributes={"a": 1})
    span.set_attribute("b", "two")
    span.end()

    [exported] = exporter.get_finished_spans()
    assert exported.name == "one"
    assert dict(exported.attributes or {}) == {"a": 1, "b": "two"}
    assert exported.end_time is not None
