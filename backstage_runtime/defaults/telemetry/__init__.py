"""Default ``runtime.telemetry``: the OpenTelemetry SDK, set up from ``backend.metrics`` and
``backend.tracing`` (Prometheus scrape endpoint, OTLP exporters), or the global no-op providers.

The core services instrument themselves through it (HTTP requests, database statements and
pools, cache calls, scheduler runs, JWKS fetches, token verification); plugins use
``alpha.core.metrics`` and ``alpha.core.tracing`` instead.
"""

from ._factory import telemetry_service_factory
from ._settings import (
    DEFAULT_PROMETHEUS_PORT,
    OtlpSettings,
    PrometheusSettings,
    TelemetrySettings,
    read_telemetry_settings,
)
from ._telemetry import BackendTelemetry

__all__ = [
    "DEFAULT_PROMETHEUS_PORT",
    "BackendTelemetry",
    "OtlpSettings",
    "PrometheusSettings",
    "TelemetrySettings",
    "read_telemetry_settings",
    "telemetry_service_factory",
]
