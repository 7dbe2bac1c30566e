"""``BackendTelemetry``: the providers one backend records with, and their naming per plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ...api import Config
from ...api._telemetry import instrumentation_scope

if TYPE_CHECKING:
    from opentelemetry.metrics import Meter, MeterProvider
    from opentelemetry.trace import Tracer, TracerProvider

    from ._prometheus import PrometheusEndpoint

__all__ = ["BackendTelemetry"]


class BackendTelemetry:
    """The ``runtime.telemetry`` service of the default backend.

    ``metrics_enabled`` / ``tracing_enabled`` are true when the providers are the backend's own
    SDK ones (or ones given to the factory); otherwise the providers are the global ones.
    """

    __slots__ = (
        "_config",
        "_meter_provider",
        "_metrics_enabled",
        "_prometheus",
        "_tracer_provider",
        "_tracing_enabled",
    )

    def __init__(
        self,
        config: Config,
        *,
        meter_provider: MeterProvider | Callable[[], MeterProvider],
        tracer_provider: TracerProvider | Callable[[], TracerProvider],
        metrics_enabled: bool,
        tracing_enabled: bool,
        prometheus: PrometheusEndpoint | None = None,
    ) -> None:
        self._config = config
        self._meter_provider = meter_provider
        self._tracer_provider = tracer_provider
        self._metrics_enabled = metrics_enabled
        self._tracing_enabled = tracing_enabled
        self._prometheus = prometheus

    @property
    def meter_provider(self) -> MeterProvider:
        """Where every meter of the backend comes from."""
        if callable(self._meter_provider):
            # The global no-op provider, resolved (with the API imported) on first use.
            self._meter_provider = self._meter_provider()
        return self._meter_provider

    @property
    def tracer_provider(self) -> TracerProvider:
        """Where every tracer of the backend comes from."""
        if callable(self._tracer_provider):
            self._tracer_provider = self._tracer_provider()
        return self._tracer_provider

    @property
    def metrics_enabled(self) -> bool:
        """Whether measurements go anywhere."""
        return self._metrics_enabled

    @property
    def tracing_enabled(self) -> bool:
        """Whether spans are recorded."""
        return self._tracing_enabled

    @property
    def prometheus_address(self) -> tuple[str, int] | None:
        """The host and port of the Prometheus scrape endpoint, when it is enabled."""
        endpoint = self._prometheus
        return None if endpoint is None else (endpoint.host, endpoint.port)

    def plugin_meter(self, plugin_id: str) -> Meter:
        """The meter of ``plugin_id`` (see :func:`instrumentation_scope`)."""
        scope = instrumentation_scope(self._config, "meter", plugin_id)
        return self.meter_provider.get_meter(
            scope.name, scope.version, scope.schema_url, {"backstage.plugin.id": plugin_id}
        )

    def plugin_tracer(self, plugin_id: str) -> Tracer:
        """The tracer of ``plugin_id`` (see :func:`instrumentation_scope`)."""
        scope = instrumentation_scope(self._config, "tracer", plugin_id)
        return self.tracer_provider.get_tracer(
            scope.name, scope.version, scope.schema_url, {"backstage.plugin.id": plugin_id}
        )
