"""What ``backend.metrics`` and ``backend.tracing`` ask for, read and checked in one place.

Backstage reads only the per-plugin meter and tracer names there and leaves exporters to the
operator's own OpenTelemetry start-up code; these keys are ours (Backstage ignores them):

- ``backend.metrics.prometheus.{enabled,host,port}``: a Prometheus scrape endpoint on a port of
  its own (off by default; ``0.0.0.0:9464`` when enabled);
- ``backend.metrics.otlp.{enabled,endpoint,headers,interval}``: periodic OTLP/HTTP pushes;
- ``backend.tracing.enabled``: record spans (implied by an exporter);
- ``backend.tracing.otlp.{enabled,endpoint,headers}``: OTLP/HTTP span exports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...api import Config, read_duration_from_config
from ...api.errors import ConfigError

__all__ = [
    "DEFAULT_PROMETHEUS_PORT",
    "OtlpSettings",
    "PrometheusSettings",
    "TelemetrySettings",
    "read_telemetry_settings",
]

#: The port OpenTelemetry's Prometheus exporters use by default (registered for it).
DEFAULT_PROMETHEUS_PORT = 9464
#: Every interface: Prometheus scrapes from another host (in Kubernetes, another pod).
DEFAULT_PROMETHEUS_HOST = "0.0.0.0"


@dataclass(frozen=True, slots=True)
class PrometheusSettings:
    """Where the scrape endpoint listens."""

    host: str = DEFAULT_PROMETHEUS_HOST
    port: int = DEFAULT_PROMETHEUS_PORT


@dataclass(frozen=True, slots=True)
class OtlpSettings:
    """One OTLP/HTTP exporter; ``endpoint`` None leaves it to ``OTEL_EXPORTER_OTLP_*``."""

    endpoint: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds between metric pushes (metrics only).
    interval: float = 60.0


@dataclass(frozen=True, slots=True)
class TelemetrySettings:
    """Everything the telemetry service sets up; all None/False means nothing at all."""

    prometheus: PrometheusSettings | None = None
    metrics_otlp: OtlpSettings | None = None
    tracing: bool = False
    traces_otlp: OtlpSettings | None = None

    @property
    def metrics(self) -> bool:
        """Whether any metrics exporter is configured."""
        return self.prometheus is not None or self.metrics_otlp is not None


def read_telemetry_settings(config: Config) -> TelemetrySettings:
    """The settings of the root ``config``; raises :class:`ConfigError` naming the bad key."""
    metrics = config.get_optional_config("backend.metrics")
    tracing = config.get_optional_config("backend.tracing")
    prometheus = _read_prometheus(metrics) if metrics is not None else None
    metrics_otlp = (
        _read_otlp(metrics, "backend.metrics.otlp", metrics=True) if metrics is not None else None
    )
    traces_otlp = (
        _read_otlp(tracing, "backend.tracing.otlp", metrics=False) if tracing is not None else None
    )
    enabled = tracing.get_optional_boolean("enabled") if tracing is not None else None
    return TelemetrySettings(
        prometheus=prometheus,
        metrics_otlp=metrics_otlp,
        tracing=enabled if enabled is not None else traces_otlp is not None,
        traces_otlp=traces_otlp,
    )


def _read_prometheus(metrics: Config) -> PrometheusSettings | None:
    section = metrics.get_optional_config("prometheus")
    if section is None or not section.get_optional_boolean("enabled"):
        return None
    host = section.get_optional_string("host")
    port = section.get_optional_number("port")
    if port is not None and (port != int(port) or not 0 <= port <= 65535):
        raise ConfigError(
            f"Invalid port {port!r} at 'backend.metrics.prometheus.port', "
            "expected an integer from 0 to 65535"
        )
    return PrometheusSettings(
        host=host if host is not None else DEFAULT_PROMETHEUS_HOST,
        port=int(port) if port is not None else DEFAULT_PROMETHEUS_PORT,
    )


def _read_otlp(parent: Config, key: str, *, metrics: bool) -> OtlpSettings | None:
    section = parent.get_optional_config("otlp")
    if section is None:
        return None
    enabled = section.get_optional_boolean("enabled")
    if enabled is False:
        return None
    headers_config = section.get_optional_config("headers")
    headers: dict[str, str] = {}
    if headers_config is not None:
        names = headers_config.keys()  # a Config is not iterable
        headers = {name: headers_config.get_string(name) for name in names}
    interval = 60.0
    if metrics and section.has("interval"):
        interval = read_duration_from_config(
            section, "interval", allow_milliseconds=True
        ).total_seconds()
        if interval <= 0:
            raise ConfigError(f"Invalid duration at '{key}.interval', it must be positive")
    return OtlpSettings(
        endpoint=section.get_optional_string("endpoint"), headers=headers, interval=interval
    )
