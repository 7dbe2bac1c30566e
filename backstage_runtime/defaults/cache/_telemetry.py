"""Spans and counters for the cache calls of every plugin: hits, misses, errors.

Created only when the backend records spans or metrics; without it a cache call does no
telemetry work at all.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry.trace import SpanKind, Status, StatusCode

from ...api.services.telemetry import TelemetryService

__all__ = ["INSTRUMENTATION_SCOPE", "CacheCall", "CacheTelemetry"]

#: The meter and tracer of the cache instruments.
INSTRUMENTATION_SCOPE = "backstage-service-cache"


class CacheCall:
    """How one call ended: ``hit`` or ``miss`` (get), ``ok`` (set, delete), ``error`` (the
    store failed: the caller saw a miss or a dropped write), ``skipped`` (the store is down and
    was not tried)."""

    __slots__ = ("result",)

    def __init__(self) -> None:
        self.result = "error"


class CacheTelemetry:
    """The instruments of the cache: counter ``backstage.core.cache.operations``
    (``cache.operation``: get/set/delete, ``cache.result``, ``cache.store``,
    ``backstage.plugin.id``), histogram ``backstage.core.cache.operation.duration`` (seconds,
    same attributes), and a ``CLIENT`` span ``cache <operation>`` per call."""

    __slots__ = ("_duration", "_operations", "_store", "_tracer")

    def __init__(self, telemetry: TelemetryService, store: str) -> None:
        self._store = store
        self._tracer = (
            telemetry.tracer_provider.get_tracer(INSTRUMENTATION_SCOPE)
            if telemetry.tracing_enabled
            else None
        )
        self._operations: Any = None
        self._duration: Any = None
        if telemetry.metrics_enabled:
            meter = telemetry.meter_provider.get_meter(INSTRUMENTATION_SCOPE)
            self._operations = meter.create_counter(
                "backstage.core.cache.operations",
                unit="{operation}",
                description="Cache calls by operation and result (hit, miss, ok, error, skipped)",
            )
            self._duration = meter.create_histogram(
                "backstage.core.cache.operation.duration",
                unit="s",
                description="Duration of cache calls",
            )

    @staticmethod
    def for_backend(telemetry: TelemetryService | None, store: str) -> CacheTelemetry | None:
        """The cache telemetry of a backend, or None when it records nothing."""
        if telemetry is None or not (telemetry.metrics_enabled or telemetry.tracing_enabled):
            return None
        return CacheTelemetry(telemetry, store)

    @contextmanager
    def call(self, operation: str, plugin_id: str) -> Iterator[CacheCall]:
        """Measure one call; the block sets :attr:`CacheCall.result`."""
        attributes = {
            "cache.operation": operation,
            "cache.store": self._store,
            "backstage.plugin.id": plugin_id,
        }
        record = CacheCall()
        started = time.perf_counter()
        span = None
        if self._tracer is not None:
            span = self._tracer.start_span(
                f"cache {operation}", kind=SpanKind.CLIENT, attributes=attributes
            )
        try:
            yield record
        finally:
            attributes["cache.result"] = record.result
            if span is not None:
                span.set_attribute("cache.result", record.result)
                if record.result == "error":
                    span.set_status(Status(StatusCode.ERROR))
                span.end()
            if self._operations is not None:
                self._operations.add(1, attributes)
                self._duration.record(time.perf_counter() - started, attributes)
