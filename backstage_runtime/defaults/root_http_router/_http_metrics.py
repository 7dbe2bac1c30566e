"""The HTTP server metrics of OpenTelemetry's semantic conventions, for every request."""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from opentelemetry.metrics import CallbackOptions, Observation

from ...http_toolkit import ASGIApp, Receive, Scope, Send, get_request_info
from ._http_attributes import KNOWN_METHODS, DurationAttributes

if TYPE_CHECKING:
    from opentelemetry.metrics import Histogram, Meter, MeterProvider

__all__ = ["HttpMetricsMiddleware"]


class _Aggregated(Protocol):
    """A histogram the meter provider aggregates itself (``defaults.telemetry``'s
    ``AggregatedHistogram``): a measurement without the SDK's per-measurement path."""

    def record(self, key: Hashable, value: float) -> bool:
        """Add ``value`` to ``key``'s attribute set; False when it must be :meth:`record_new`."""

    def record_new(self, key: Hashable, value: float, attributes: Mapping[str, Any]) -> None:
        """Add ``value`` to ``key``, whose attributes are ``attributes``."""


@runtime_checkable
class _AggregatingProvider(Protocol):
    """The backend's own meter provider (``defaults.telemetry``'s ``BackendMeterProvider``)."""

    def aggregated_histogram(
        self, histogram: Any, boundaries: Sequence[float]
    ) -> _Aggregated | None:
        """``histogram`` aggregated by the provider, or None when the SDK must record it."""


# The conventions' advice for http.server.request.duration, in seconds.
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)


class HttpMetricsMiddleware:
    """Records ``http.server.request.duration`` (histogram, seconds; method, status code,
    route template, scheme, protocol version, plugin id) and ``http.server.active_requests``
    (up-down counter; method, scheme) for each HTTP request.

    The active requests are counted here and observed when a reader collects: an SDK
    measurement costs as much as the histogram's, twice per request, for a number that is
    only read at collection. The durations, with the backend's own meter provider, are
    aggregated by it (the SDK's points, without the SDK's work per measurement); with any
    other provider, or when that one cannot, they are recorded through the SDK.
    """

    __slots__ = (
        "_active",
        "_active_attributes",
        "_aggregated",
        "_attributes",
        "_duration",
        "app",
    )

    def __init__(
        self, app: ASGIApp, meter: Meter, meter_provider: MeterProvider | None = None
    ) -> None:
        """``meter_provider`` is ``meter``'s: when it is the backend's own, the durations are
        aggregated by it instead of measured one by one through the SDK (the same points)."""
        self.app = app
        self._duration: Histogram = meter.create_histogram(
            "http.server.request.duration",
            unit="s",
            description="Duration of HTTP server requests.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        self._aggregated: _Aggregated | None = None
        if isinstance(meter_provider, _AggregatingProvider):
            self._aggregated = meter_provider.aggregated_histogram(
                self._duration, _DURATION_BUCKETS
            )
        self._attributes = DurationAttributes()
        # (method, scheme) -> requests being served; written on the event loop, read by the
        # reader's thread (a Prometheus scrape, an OTLP push) through ``_observe``.
        self._active: dict[tuple[str, str], int] = {}
        self._active_attributes: dict[tuple[str, str], dict[str, Any]] = {}
        meter.create_observable_up_down_counter(
            "http.server.active_requests",
            [self._observe],
            unit="{request}",
            description="Number of active HTTP server requests.",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, then record it (whatever its outcome)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        if method not in KNOWN_METHODS:
            method = "_OTHER"
        scheme: str = scope.get("scheme", "http")
        key = (method, scheme)
        active = self._active
        count = active.get(key)
        if count is None:
            # Attributes first: the reader's thread may observe the key as soon as it exists.
            self._active_attributes[key] = {"http.request.method": method, "url.scheme": scheme}
            count = 0
        active[key] = count + 1
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            active[key] -= 1
            duration = time.perf_counter() - started
            version: str = scope.get("http_version", "1.1")
            info = get_request_info(scope)
            aggregated = self._aggregated
            if aggregated is None:
                self._duration.record(duration, self._attributes.of(method, scheme, version, info))
            else:
                # A monotonic clock's difference: finite and never negative, as recorded.
                attributes_key = DurationAttributes.key(method, scheme, version, info)
                if not aggregated.record(attributes_key, duration):
                    aggregated.record_new(
                        attributes_key,
                        duration,
                        self._attributes.of(method, scheme, version, info),
                    )

    def _observe(self, options: CallbackOptions) -> Iterable[Observation]:
        # A copy of the items: the event loop may add a key while this thread reads.
        attributes = self._active_attributes
        return [Observation(count, attributes[key]) for key, count in list(self._active.items())]
