"""``runtime.telemetry``: the backend's OpenTelemetry providers, shared by the core services.

Not a Backstage service: Backstage leaves the OpenTelemetry SDK to the operator's own start-up
script and reads the global providers. Here the backend sets it up from ``backend.metrics`` and
``backend.tracing`` (exporters included) and keeps it per backend, so that two backends in one
process do not share instruments; without that config it hands out the global providers, which
are OpenTelemetry's no-op ones unless the process installed an SDK itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from opentelemetry.metrics import Meter, MeterProvider
    from opentelemetry.trace import Tracer, TracerProvider

__all__ = ["TelemetryService"]


class TelemetryService(Protocol):
    """The meter and tracer providers of one backend, and whether they record anything.

    Services instrument themselves only when :attr:`metrics_enabled` / :attr:`tracing_enabled`
    say so, so that a backend without telemetry pays nothing for it.
    """

    @property
    def meter_provider(self) -> MeterProvider:
        """Where every meter of the backend comes from."""

    @property
    def tracer_provider(self) -> TracerProvider:
        """Where every tracer of the backend comes from."""

    @property
    def metrics_enabled(self) -> bool:
        """Whether measurements go anywhere (an SDK meter provider is in use)."""

    @property
    def tracing_enabled(self) -> bool:
        """Whether spans are recorded (an SDK tracer provider is in use)."""

    def plugin_meter(self, plugin_id: str) -> Meter:
        """The meter of ``plugin_id``: ``backstage-plugin-<pluginId>`` unless
        ``backend.metrics.plugin.<pluginId>.meter.{name,version,schemaUrl}`` say otherwise."""

    def plugin_tracer(self, plugin_id: str) -> Tracer:
        """The tracer of ``plugin_id``: ``backstage-plugin-<pluginId>`` unless
        ``backend.tracing.plugin.<pluginId>.tracer.{name,version,schemaUrl}`` say otherwise."""
