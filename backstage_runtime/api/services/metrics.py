"""``alpha.core.metrics``: OpenTelemetry instruments under the plugin's own meter.

Backstage's alpha ``MetricsService`` in Python. The instrument types are structural: the
instruments of the OpenTelemetry API (``opentelemetry.metrics``) satisfy them, and so do its
no-op ones, which is what a plugin gets while no exporter is configured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeAlias

__all__ = [
    "Counter",
    "Gauge",
    "Histogram",
    "MetricAttributes",
    "MetricsService",
    "ObservableCallback",
    "ObservableInstrument",
    "RootMetricsService",
    "UpDownCounter",
]

#: Attributes of one measurement: OpenTelemetry attribute values (str, bool, int, float or a
#: sequence of one of them).
MetricAttributes: TypeAlias = Mapping[str, Any]

#: A callback of an observable instrument: called at each collection with OpenTelemetry's
#: ``CallbackOptions``, it returns the ``opentelemetry.metrics.Observation`` values to report.
ObservableCallback: TypeAlias = Callable[[Any], Iterable[Any]]


class Counter(Protocol):
    """A sum that only grows."""

    def add(self, amount: int | float, attributes: MetricAttributes | None = None) -> None:
        """Add ``amount`` (not negative)."""


class UpDownCounter(Protocol):
    """A sum that grows and shrinks (in-flight requests, queue length)."""

    def add(self, amount: int | float, attributes: MetricAttributes | None = None) -> None:
        """Add ``amount`` (negative to subtract)."""


class Histogram(Protocol):
    """A distribution of values (durations, sizes)."""

    def record(self, amount: int | float, attributes: MetricAttributes | None = None) -> None:
        """Record one value."""


class Gauge(Protocol):
    """The last value of something (a timestamp, a temperature)."""

    def set(self, amount: int | float, attributes: MetricAttributes | None = None) -> None:
        """Set the current value."""


class ObservableInstrument(Protocol):
    """An instrument whose values its callbacks report at each collection."""


class MetricsService(Protocol):
    """Creates instruments under one meter: ``backstage-plugin-<pluginId>`` for a plugin
    (``backend.metrics.plugin.<pluginId>.meter.{name,version,schemaUrl}`` override it).

    Names follow OpenTelemetry's conventions (``backstage.plugin.<pluginId>.<name>`` is
    Backstage's advice for a plugin's own instruments); ``unit`` is UCUM (``s``, ``By``,
    ``{request}``). Creating the same instrument twice returns an equivalent one.
    """

    def create_counter(self, name: str, *, unit: str = "", description: str = "") -> Counter:
        """A counter."""

    def create_up_down_counter(
        self, name: str, *, unit: str = "", description: str = ""
    ) -> UpDownCounter:
        """An up-down counter."""

    def create_histogram(
        self,
        name: str,
        *,
        unit: str = "",
        description: str = "",
        explicit_bucket_boundaries: Sequence[float] | None = None,
    ) -> Histogram:
        """A histogram; ``explicit_bucket_boundaries`` is advice for its buckets (Backstage's
        ``advice.explicitBucketBoundaries``)."""

    def create_gauge(self, name: str, *, unit: str = "", description: str = "") -> Gauge:
        """A synchronous gauge."""

    def create_observable_counter(
        self,
        name: str,
        callbacks: Sequence[ObservableCallback],
        *,
        unit: str = "",
        description: str = "",
    ) -> ObservableInstrument:
        """An observable counter reported by ``callbacks``."""

    def create_observable_up_down_counter(
        self,
        name: str,
        callbacks: Sequence[ObservableCallback],
        *,
        unit: str = "",
        description: str = "",
    ) -> ObservableInstrument:
        """An observable up-down counter reported by ``callbacks``."""

    def create_observable_gauge(
        self,
        name: str,
        callbacks: Sequence[ObservableCallback],
        *,
        unit: str = "",
        description: str = "",
    ) -> ObservableInstrument:
        """An observable gauge reported by ``callbacks``."""


class RootMetricsService(MetricsService, Protocol):
    """``alpha.core.rootMetrics``: instruments of root services (meter ``backstage``), and the
    metrics service of any plugin."""

    def for_plugin(self, plugin_id: str) -> MetricsService:
        """The metrics service ``plugin_id`` gets from ``alpha.core.metrics``."""
