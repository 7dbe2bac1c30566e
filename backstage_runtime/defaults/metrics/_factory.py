"""The default ``alpha.core.metrics`` and ``alpha.core.rootMetrics`` factories."""

from __future__ import annotations

from ...api import PluginMetadataService, ServiceFactory, core_services, create_service_factory
from ...api._telemetry import metrics_service_ref, root_metrics_service_ref, telemetry_service_ref
from ...api.services.metrics import MetricsService, RootMetricsService
from ...api.services.telemetry import TelemetryService
from ._metrics import MeterMetrics, RootMetrics

__all__ = ["metrics_service_factory", "root_metrics_service_factory"]


def root_metrics_service_factory() -> ServiceFactory[RootMetricsService]:
    """The default ``alpha.core.rootMetrics`` factory: instruments under the meter
    ``backstage`` of ``runtime.telemetry``."""

    def factory(*, telemetry: TelemetryService) -> RootMetricsService:
        return RootMetrics(telemetry)

    return create_service_factory(
        service=root_metrics_service_ref,
        deps={"telemetry": telemetry_service_ref},
        factory=factory,
    )


def metrics_service_factory() -> ServiceFactory[MetricsService]:
    """The default ``alpha.core.metrics`` factory: each plugin's instruments under its meter,
    ``backstage-plugin-<pluginId>`` unless ``backend.metrics.plugin.<pluginId>.meter``
    renames it."""

    def factory(
        *, telemetry: TelemetryService, plugin_metadata: PluginMetadataService
    ) -> MetricsService:
        return MeterMetrics(telemetry.plugin_meter(plugin_metadata.get_id()))

    return create_service_factory(
        service=metrics_service_ref,
        deps={
            "telemetry": telemetry_service_ref,
            "plugin_metadata": core_services.plugin_metadata,
        },
        factory=factory,
    )
