"""The default ``alpha.core.tracing`` factory."""

from __future__ import annotations

from ...api import (
    Config,
    PluginMetadataService,
    ServiceFactory,
    core_services,
    create_service_factory,
)
from ...api._telemetry import telemetry_service_ref, tracing_service_ref
from ...api.services.telemetry import TelemetryService
from ...api.services.tracing import TracingService

__all__ = ["tracing_service_factory"]


def tracing_service_factory() -> ServiceFactory[TracingService]:
    """The default ``alpha.core.tracing`` factory: spans from the plugin's tracer,
    ``backstage-plugin-<pluginId>`` unless ``backend.tracing.plugin.<pluginId>.tracer`` renames
    it; ``backend.tracing.capture.endUser`` adds ``enduser.id`` to spans given credentials."""

    def factory(
        *, config: Config, telemetry: TelemetryService, plugin_metadata: PluginMetadataService
    ) -> TracingService:
        # OpenTelemetry's API loads with the first plugin that asks for tracing.
        from ._tracing import PluginTracing

        plugin_id = plugin_metadata.get_id()
        capture = config.get_optional_boolean("backend.tracing.capture.endUser") or False
        return PluginTracing(
            telemetry.plugin_tracer(plugin_id), plugin_id, capture_end_user=capture
        )

    return create_service_factory(
        service=tracing_service_ref,
        deps={
            "config": core_services.root_config,
            "telemetry": telemetry_service_ref,
            "plugin_metadata": core_services.plugin_metadata,
        },
        factory=factory,
    )
