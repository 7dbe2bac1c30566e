"""Task metrics and traces, with Backstage's instrument names, through the OpenTelemetry API.

The meter is the plugin's own (``backstage-plugin-<pluginId>``, from ``runtime.telemetry``), as
in Backstage, where the scheduler uses the plugin's ``alpha.core.metrics``. Without telemetry
configured the instruments are no-op ones, so this costs next to nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import metrics, trace

__all__ = ["TRACER_ID", "RunRecord", "TaskMetrics"]

TRACER_ID = "backstage-service-scheduler"

# Backstage's advice for the duration histogram, in seconds.
_DURATION_BUCKETS = (0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


class RunRecord:
    """What :meth:`TaskMetrics.run` needs to know about how one run ended."""

    __slots__ = ("error", "failed")

    def __init__(self) -> None:
        self.failed = False
        #: The exception the task raised, recorded on the run's span.
        self.error: BaseException | None = None


class TaskMetrics:
    """The instruments of one plugin's scheduler.

    Per task (attributes ``taskId``, ``scope`` and ``result``): the counter
    ``backend_tasks.task.runs.count`` (``result=started`` at each start, then ``completed`` or
    ``failed``), the histogram ``backend_tasks.task.runs.duration`` (seconds), and the gauges
    ``backend_tasks.task.runs.started`` / ``backend_tasks.task.runs.completed`` (epoch seconds of
    the last start and end). Each run is a span ``task <id>`` of the tracer
    ``backstage-service-scheduler``.
    """

    def __init__(self, meter: metrics.Meter, tracer: trace.Tracer) -> None:
        self._runs = meter.create_counter(
            "backend_tasks.task.runs.count",
            description="Total number of times a task has been run",
        )
        self._duration = meter.create_histogram(
            "backend_tasks.task.runs.duration",
            unit="seconds",
            description="Histogram of task run durations",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        self._last_started = meter.create_gauge(
            "backend_tasks.task.runs.started",
            unit="seconds",
            description="Epoch timestamp seconds when the task was last started",
        )
        self._last_completed = meter.create_gauge(
            "backend_tasks.task.runs.completed",
            unit="seconds",
            description="Epoch timestamp seconds when the task was last completed",
        )
        self._tracer = tracer

    @classmethod
    def for_plugin(
        cls,
        plugin_id: str,
        *,
        meter_provider: metrics.MeterProvider | None = None,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> TaskMetrics:
        """Instruments from the given providers (the global ones when None)."""
        meter = metrics.get_meter(f"backstage-plugin-{plugin_id}", meter_provider=meter_provider)
        return cls(meter, trace.get_tracer(TRACER_ID, tracer_provider=tracer_provider))

    @contextmanager
    def run(self, task_id: str, scope: str) -> Iterator[RunRecord]:
        """Measure one run; the caller sets ``record.failed`` (and ``record.error``) when the run
        did not succeed."""
        labels = {"taskId": task_id, "scope": scope}
        self._runs.add(1, {**labels, "result": "started"})
        self._last_started.set(time.time(), {"taskId": task_id})
        record = RunRecord()
        started = time.perf_counter()
        try:
            with self._tracer.start_as_current_span(f"task {task_id}", attributes=labels) as span:
                try:
                    yield record
                finally:
                    if record.error is not None:
                        span.record_exception(record.error)
                    if record.failed:
                        span.set_status(trace.StatusCode.ERROR)
        finally:
            result = {**labels, "result": "failed" if record.failed else "completed"}
            self._runs.add(1, result)
            self._duration.record(time.perf_counter() - started, result)
            self._last_completed.set(time.time(), result)
