"""The refs of the telemetry services, and the telemetry a backend has when nobody set it up.

``runtime.telemetry`` has a default factory here (the global OpenTelemetry providers), so a
backend assembled from its own list of factories keeps working without it; the default backend
installs the configurable one of ``backstage_runtime.defaults.telemetry`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ._core_services import core_services
from ._factories import ServiceFactory, create_service_factory
from ._refs import ServiceRef, create_service_ref
from .services.config import Config
from .services.metrics import MetricsService, RootMetricsService
from .services.telemetry import TelemetryService
from .services.tracing import TracingService

if TYPE_CHECKING:
    from opentelemetry.metrics import Meter, MeterProvider
    from opentelemetry.trace import Tracer, TracerProvider

__all__ = [
    "InstrumentationScope",
    "global_telemetry_factory",
    "instrumentation_scope",
    "metrics_service_ref",
    "root_metrics_service_ref",
    "telemetry_service_ref",
    "tracing_service_ref",
]


@dataclass(frozen=True, slots=True)
class InstrumentationScope:
    """The name, version and schema URL of a meter or tracer."""

    name: str
    version: str | None = None
    schema_url: str | None = None


def instrumentation_scope(config: Config, kind: str, plugin_id: str) -> InstrumentationScope:
    """The scope of ``plugin_id``'s meter (``kind="meter"``, from
    ``backend.metrics.plugin.<id>.meter``) or tracer (``kind="tracer"``, from
    ``backend.tracing.plugin.<id>.tracer``); the name defaults to ``backstage-plugin-<id>``.

    Raises :class:`ConfigError` naming the key when one of them is not a string.
    """
    section = "backend.metrics" if kind == "meter" else "backend.tracing"
    scope = config.get_optional_config(section)
    plugins = scope.get_optional_config("plugin") if scope is not None else None
    plugin = plugins.get_optional_config(plugin_id) if plugins is not None else None
    given = plugin.get_optional_config(kind) if plugin is not None else None
    default = f"backstage-plugin-{plugin_id}"
    if given is None:
        return InstrumentationScope(default)
    return InstrumentationScope(
        given.get_optional_string("name") or default,
        given.get_optional_string("version"),
        given.get_optional_string("schemaUrl"),
    )


def _is_sdk(provider: object, api_module: str) -> bool:
    # The API's own providers (the global proxy before an SDK is installed, the no-op ones)
    # live in the API's modules; anything else is an SDK (or a vendor's) that records.
    return not type(provider).__module__.startswith(api_module)


class _GlobalTelemetry:
    """The process's global OpenTelemetry providers, as read when the backend starts."""

    __slots__ = ("_config", "_meter_provider", "_tracer_provider")

    def __init__(self, config: Config) -> None:
        from opentelemetry import metrics, trace

        self._config = config
        self._meter_provider = metrics.get_meter_provider()
        self._tracer_provider = trace.get_tracer_provider()

    @property
    def meter_provider(self) -> MeterProvider:
        return self._meter_provider

    @property
    def tracer_provider(self) -> TracerProvider:
        return self._tracer_provider

    @property
    def metrics_enabled(self) -> bool:
        return _is_sdk(self._meter_provider, "opentelemetry.metrics")

    @property
    def tracing_enabled(self) -> bool:
        return _is_sdk(self._tracer_provider, "opentelemetry.trace")

    def plugin_meter(self, plugin_id: str) -> Meter:
        scope = instrumentation_scope(self._config, "meter", plugin_id)
        return self._meter_provider.get_meter(
            scope.name, scope.version, scope.schema_url, {"backstage.plugin.id": plugin_id}
        )

    def plugin_tracer(self, plugin_id: str) -> Tracer:
        scope = instrumentation_scope(self._config, "tracer", plugin_id)
        return self._tracer_provider.get_tracer(
            scope.name, scope.version, scope.schema_url, {"backstage.plugin.id": plugin_id}
        )


def global_telemetry_factory() -> ServiceFactory[TelemetryService]:
    """A ``runtime.telemetry`` factory over the global OpenTelemetry providers (what Backstage
    uses): no-op unless the process installed an SDK before the backend started."""

    def factory(*, config: Config) -> TelemetryService:
        return _GlobalTelemetry(config)

    return create_service_factory(
        service=telemetry_service_ref, deps={"config": core_services.root_config}, factory=factory
    )


def _default_telemetry(_ref: ServiceRef[Any]) -> ServiceFactory[Any]:
    return global_telemetry_factory()


#: The backend's OpenTelemetry providers, ``runtime.telemetry`` (root-scoped); see
#: :class:`~backstage_runtime.api.services.telemetry.TelemetryService`.
telemetry_service_ref: Final[ServiceRef[TelemetryService]] = create_service_ref(
    id="runtime.telemetry", scope="root", default_factory=_default_telemetry
)

#: A plugin's metrics service, Backstage's alpha ``metricsServiceRef`` (``alpha.core.metrics``).
metrics_service_ref: Final[ServiceRef[MetricsService]] = create_service_ref(id="alpha.core.metrics")

#: The root metrics service, Backstage's alpha ``rootMetricsServiceRef``
#: (``alpha.core.rootMetrics``, root-scoped).
root_metrics_service_ref: Final[ServiceRef[RootMetricsService]] = create_service_ref(
    id="alpha.core.rootMetrics", scope="root"
)

#: A plugin's tracing service, Backstage's alpha ``tracingServiceRef`` (``alpha.core.tracing``).
tracing_service_ref: Final[ServiceRef[TracingService]] = create_service_ref(id="alpha.core.tracing")
