"""``MeterMetrics``: the metrics service over one OpenTelemetry meter."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ...api.services.metrics import (
    Counter,
    Gauge,
    Histogram,
    MetricsService,
    ObservableCallback,
    ObservableInstrument,
    UpDownCounter,
)
from ...api.services.telemetry import TelemetryService

if TYPE_CHECKING:
    from opentelemetry.metrics import Meter

__all__ = ["MeterMetrics", "RootMetrics"]

#: The meter of root services (Backstage's root metrics service names it after the service).
ROOT_METER_NAME = "backstage"


class MeterMetrics:
    """Creates instruments with a meter (no-op ones while metrics are off)."""

    __slots__ = ("_meter_source",)

    def __init__(self, meter: Meter | Callable[[], Meter]) -> None:
        self._meter_source = meter

    @property
    def _meter(self) -> Meter:
        # A callable is resolved with the first instrument: a backend builds its root services
        # at start, and the meter would load OpenTelemetry's API for nothing.
        if callable(self._meter_source):
            self._meter_source = self._meter_source()
        return self._meter_source

    def create_counter(self, name: str, *, unit: str = "", description: str = "") -> Counter:
        """A counter."""
        return self._meter.create_counter(name, unit=unit, description=description)

    def create_up_down_counter(
        self, name: str, *, unit: str = "", description: str = ""
    ) -> UpDownCounter:
        """An up-down counter."""
        return self._meter.create_up_down_counter(name, unit=unit, description=description)

    def create_histogram(
        self,
        name: str,
        *,
        unit: str = "",
        description: str = "",
        explicit_bucket_boundaries: Sequence[float] | None = None,
    ) -> Histogram:
        """A histogram, with advice for its buckets."""
        return self._meter.create_histogram(
            name,
            unit=unit,
            description=description,
            explicit_bucket_boundaries_advisory=explicit_bucket_boundaries,
        )

    def create_gauge(self, name: str, *, unit: str = "", description: str = "") -> Gauge:
        """A synchronous gauge."""
        return self._meter.create_gauge(name, unit=unit, description=description)

    def create_observable_counter(
        self,
        name: str,
        callbacks: Sequence[ObservableCallback],
        *,
        unit: str = "",
        description: str = "",
    ) -> ObservableInstrument:
        """An observable counter."""
        return self._meter.create_observable_counter(
            name, list(callbacks), unit=unit, description=description
        )

    def create_observable_up_down_counter(
        self,
        name: str,
        callbacks: Sequence[ObservableCallback],
        *,
        unit: str = "",
        description: str = "",
    ) -> ObservableInstrument:
        """An observable up-down counter."""
        return self._meter.create_observable_up_down_counter(
            name, list(callbacks), unit=unit, description=description
        )

    def create_observable_gauge(
        self,
        name: str,
        callbacks: Sequence[ObservableCallback],
        *,
        unit: str = "",
        description: str = "",
    ) -> ObservableInstrument:
        """An observable gauge."""
        return self._meter.create_observable_gauge(
            name, list(callbacks), unit=unit, description=description
        )


class RootMetrics(MeterMetrics):
    """The root metrics service: meter ``backstage``, and each plugin's metrics service."""

    __slots__ = ("_telemetry",)

    def __init__(self, telemetry: TelemetryService) -> None:
        super().__init__(lambda: telemetry.meter_provider.get_meter(ROOT_METER_NAME))
        self._telemetry = telemetry

    def for_plugin(self, plugin_id: str) -> MetricsService:
        """The metrics service of ``plugin_id`` (meter ``backstage-plugin-<pluginId>``)."""
        return MeterMetrics(self._telemetry.plugin_meter(plugin_id))
