"""The OpenTelemetry SDK set up from the settings: imported only when something is configured.

The SDK, its exporters and prometheus_client come with the ``observability`` extra; a backend
configured for them without it fails to start with an error naming the extra.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...api.errors import ConfigError
from ._settings import OtlpSettings, PrometheusSettings, TelemetrySettings

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics import ExemplarFilter
    from opentelemetry.sdk.metrics.export import MetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

    from ._meter_provider import BackendMeterProvider
    from ._prometheus import PrometheusEndpoint

__all__ = ["build_meter_provider", "build_tracer_provider", "default_resource"]

_EXTRA_HINT = "install backstage-runtime[observability]"


def _missing(what: str, error: ImportError) -> ConfigError:
    return ConfigError(f"{what} needs the OpenTelemetry SDK and exporters ({_EXTRA_HINT}): {error}")


def default_resource() -> Resource:
    """The resource of every measurement and span: ``service.name`` is ``backstage`` unless
    ``OTEL_SERVICE_NAME`` (or ``OTEL_RESOURCE_ATTRIBUTES``) names the service."""
    from opentelemetry.sdk.resources import Resource

    attributes: dict[str, Any] = {}
    if not os.environ.get("OTEL_SERVICE_NAME"):
        attributes["service.name"] = "backstage"
    return Resource.create(attributes)


def build_meter_provider(
    settings: TelemetrySettings, readers: Sequence[MetricReader], *, tracing: bool = False
) -> tuple[BackendMeterProvider, PrometheusEndpoint | None]:
    """An SDK meter provider with the configured readers plus ``readers``, and the Prometheus
    endpoint when one is configured (already listening).

    Without ``tracing`` (no SDK tracer provider, the backend's or the process's) no span is ever
    sampled, so the SDK's default exemplar filter (``trace_based``) could not keep an exemplar:
    the provider gets the AlwaysOff filter then, which spares each measurement the filter's
    context lookup and lets the HTTP duration histogram be aggregated by the backend (see
    :class:`AggregatedHistogram`). ``OTEL_METRICS_EXEMPLAR_FILTER`` set to another filter wins.
    """
    try:
        from ._meter_provider import BackendMeterProvider
    except ImportError as error:
        raise _missing("backend.metrics", error) from None
    all_readers = list(readers)
    endpoint = None
    if settings.prometheus is not None:
        endpoint = _prometheus(settings.prometheus)
        all_readers.append(endpoint.reader)
    if settings.metrics_otlp is not None:
        all_readers.append(_otlp_metric_reader(settings.metrics_otlp))
    provider = BackendMeterProvider(
        metric_readers=all_readers,
        resource=default_resource(),
        exemplar_filter=None if tracing else _exemplar_filter_without_tracing(),
    )
    return provider, endpoint


def _exemplar_filter_without_tracing() -> ExemplarFilter | None:
    """AlwaysOff, unless ``OTEL_METRICS_EXEMPLAR_FILTER`` names another filter than the
    default (None: the SDK reads the variable)."""
    from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter

    chosen = os.environ.get("OTEL_METRICS_EXEMPLAR_FILTER", "").strip().lower()
    if chosen in ("", "trace_based", "always_off"):
        return AlwaysOffExemplarFilter()
    return None


def build_tracer_provider(
    settings: TelemetrySettings, processors: Sequence[SpanProcessor]
) -> TracerProvider:
    """An SDK tracer provider exporting to the configured OTLP endpoint and ``processors``.

    Sampling is the SDK's default (a parent's decision is kept, root spans are sampled; see
    ``_root_sampler`` for its short way with a root span); the ``OTEL_TRACES_SAMPLER`` variables
    change it.
    """
    try:
        from opentelemetry.sdk.trace import TracerProvider

        from ._root_sampler import default_sampler
        from ._span_processors import SpanProcessors
    except ImportError as error:
        raise _missing("backend.tracing", error) from None
    provider = TracerProvider(
        sampler=default_sampler(),
        resource=default_resource(),
        active_span_processor=SpanProcessors(),
    )
    for processor in processors:
        provider.add_span_processor(processor)
    if settings.traces_otlp is not None:
        provider.add_span_processor(_otlp_span_processor(settings.traces_otlp))
    return provider


def _prometheus(settings: PrometheusSettings) -> PrometheusEndpoint:
    try:
        from ._prometheus import PrometheusEndpoint
    except ImportError as error:
        raise _missing("backend.metrics.prometheus", error) from None
    return PrometheusEndpoint.start(settings.host, settings.port)


def _otlp_metric_reader(settings: OtlpSettings) -> MetricReader:
    try:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    except ImportError as error:
        raise _missing("backend.metrics.otlp", error) from None
    exporter = OTLPMetricExporter(endpoint=settings.endpoint, headers=settings.headers or None)
    return PeriodicExportingMetricReader(exporter, export_interval_millis=settings.interval * 1000)


def _otlp_span_processor(settings: OtlpSettings) -> SpanProcessor:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as error:
        raise _missing("backend.tracing.otlp", error) from None
    exporter = OTLPSpanExporter(endpoint=settings.endpoint, headers=settings.headers or None)
    return BatchSpanProcessor(exporter)
