"""Task metrics and spans through OpenTelemetry, read back with the SDK's in-memory readers."""

from __future__ import annotations

from typing import Any

import pytest
from _support.polling import eventually
from opentelemetry.sdk import metrics as sdk_metrics
from opentelemetry.sdk import trace as sdk_trace
from opentelemetry.sdk.metrics import export as sdk_export
from opentelemetry.sdk.trace import export as trace_export
from opentelemetry.sdk.trace.export import in_memory_span_exporter as span_export

from ._support import Recorder, scheduler_backend

pytestmark = pytest.mark.anyio


def points(reader: Any) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            assert scope.scope.name == "backstage-plugin-tasks"
            for metric in scope.metrics:
                found[metric.name] = list(metric.data.data_points)
    return found


async def test_runs_failures_durations_and_times_are_recorded() -> None:
    reader = sdk_export.InMemoryMetricReader()
    meters = sdk_metrics.MeterProvider(metric_readers=[reader])
    exporter = span_export.InMemorySpanExporter()
    tracers = sdk_trace.TracerProvider()
    tracers.add_span_processor(trace_export.SimpleSpanProcessor(exporter))
    recorder = Recorder(fail_on=lambda number: number == 2)

    async def schedule(scheduler: Any) -> None:
        await scheduler.schedule_task(
            id="measured", frequency={"milliseconds": 50}, timeout={"seconds": 5}, fn=recorder
        )

    options = {"meter_provider": meters, "tracer_provider": tracers}
    async with scheduler_backend(schedule, factory_options=options):
        await eventually(lambda: len(recorder.ends) >= 3)
    found = points(reader)

    counts = {
        (p.attributes["result"], p.attributes["scope"], p.attributes["taskId"]): p.value
        for p in found["backend_tasks.task.runs.count"]
    }
    runs = recorder.count
    assert counts[("started", "global", "measured")] == runs
    assert counts[("failed", "global", "measured")] == 1
    assert counts[("completed", "global", "measured")] == runs - 1
    durations = {p.attributes["result"]: p for p in found["backend_tasks.task.runs.duration"]}
    assert durations["failed"].count == 1
    assert durations["completed"].count == runs - 1
    assert durations["completed"].sum >= 0
    [started] = found["backend_tasks.task.runs.started"]
    assert dict(started.attributes) == {"taskId": "measured"}
    ended = found["backend_tasks.task.runs.completed"]
    assert max(p.value for p in ended) >= started.value - 1

    spans = exporter.get_finished_spans()
    assert {span.name for span in spans} == {"task measured"}
    instrumentation = spans[0].instrumentation_scope
    assert instrumentation is not None
    assert instrumentation.name == "backstage-service-scheduler"
    failed = [span for span in spans if not span.status.is_ok]
    assert len(failed) == 1
    assert failed[0].events[0].name == "exception"
