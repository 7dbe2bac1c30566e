"""The default ``runtime.telemetry`` factory: the SDK set up from ``backend.metrics`` and
``backend.tracing``, or nothing at all."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING

import anyio

from ...api import Config, LoggerService, ServiceFactory, core_services, create_service_factory
from ...api._telemetry import telemetry_service_ref
from ...api.services.telemetry import TelemetryService
from ._settings import read_telemetry_settings
from ._telemetry import BackendTelemetry

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import MetricReader
    from opentelemetry.sdk.trace import SpanProcessor
    from opentelemetry.trace import TracerProvider
else:
    # The SDK is not imported unless it is configured; at run time (typing.get_type_hints)
    # these annotations only need a name.
    MetricReader = SpanProcessor = MeterProvider = TracerProvider = object

__all__ = ["telemetry_service_factory"]


def telemetry_service_factory(
    *,
    meter_provider: MeterProvider | None = None,
    tracer_provider: TracerProvider | None = None,
    metric_readers: Sequence[MetricReader] = (),
    span_processors: Sequence[SpanProcessor] = (),
) -> ServiceFactory[TelemetryService]:
    """The default ``runtime.telemetry`` factory.

    Metrics are recorded when ``backend.metrics.prometheus`` or ``backend.metrics.otlp`` is
    configured, or ``metric_readers`` (SDK readers, e.g. an ``InMemoryMetricReader``) are
    given; spans when ``backend.tracing`` enables them or ``span_processors`` are given. The
    backend then has SDK providers of its own (not the process's global ones), shut down (and
    flushed) after the root shutdown hooks. ``meter_provider`` / ``tracer_provider`` replace
    those with providers of the caller's. With none of this the backend uses the global
    providers, which are OpenTelemetry's no-op ones unless the process installed an SDK: then
    the SDK is not even imported.
    """

    async def factory(*, config: Config, logger: LoggerService) -> AsyncIterator[TelemetryService]:
        settings = read_telemetry_settings(config)
        # What the backend set up, and so shuts down: the SDK providers' shutdown methods.
        owned: list[Callable[[], object]] = []
        tracers = tracer_provider
        if tracers is None and (settings.tracing or span_processors):
            from ._sdk import build_tracer_provider

            sdk_tracers = build_tracer_provider(settings, span_processors)
            owned.append(sdk_tracers.shutdown)
            tracers = sdk_tracers
        tracing = tracers is not None or _global_sdk_installed("trace")
        meters = meter_provider
        endpoint = None
        if meters is None and (settings.metrics or metric_readers):
            from ._sdk import build_meter_provider

            sdk_meters, endpoint = build_meter_provider(settings, metric_readers, tracing=tracing)
            # Metrics shut down first, as they did before tracing was set up ahead of them.
            owned.insert(0, sdk_meters.shutdown)
            meters = sdk_meters
        telemetry = BackendTelemetry(
            config,
            meter_provider=meters if meters is not None else _global_meter_provider,
            tracer_provider=tracers if tracers is not None else _global_tracer_provider,
            metrics_enabled=meters is not None or _global_sdk_installed("metrics"),
            tracing_enabled=tracing,
            prometheus=endpoint,
        )
        if endpoint is not None:
            logger.info(
                f"Serving Prometheus metrics on {endpoint.host}:{endpoint.port}",
                {"host": endpoint.host, "port": endpoint.port},
            )
        try:
            yield telemetry
        finally:
            with anyio.CancelScope(shield=True):
                # Flushing exports over the network blocks: in a thread, each one bounded by
                # the SDK's own export timeouts.
                for shutdown in owned:
                    await anyio.to_thread.run_sync(shutdown)
                if endpoint is not None:
                    await anyio.to_thread.run_sync(endpoint.close)

    return create_service_factory(
        service=telemetry_service_ref,
        deps={"config": core_services.root_config, "logger": core_services.root_logger},
        factory=factory,
    )


def _global_meter_provider() -> MeterProvider:
    from opentelemetry import metrics

    return metrics.get_meter_provider()


def _global_tracer_provider() -> TracerProvider:
    from opentelemetry import trace

    return trace.get_tracer_provider()


def _global_sdk_installed(signal: str) -> bool:
    """Whether an SDK was installed process-wide (by the operator, as Backstage expects) for
    ``signal`` (``metrics`` or ``trace``); the API's own proxy and no-op providers record nothing.
    """
    api = sys.modules.get(f"opentelemetry.{signal}")
    if api is None:
        # Nothing imported the API, so nothing installed a provider: stay without it (cold
        # start) until a plugin asks for a meter or tracer.
        return False
    provider = api.get_meter_provider() if signal == "metrics" else api.get_tracer_provider()
    return not type(provider).__module__.startswith(
        ("opentelemetry.metrics", "opentelemetry.trace")
    )
