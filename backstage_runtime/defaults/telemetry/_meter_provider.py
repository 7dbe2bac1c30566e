"""``BackendMeterProvider``: the SDK's meter provider, able to deliver histograms that the
backend aggregates itself (:class:`AggregatedHistogram`) to every reader it collects for."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from threading import Lock
from time import time_ns
from typing import Any, cast

from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, ExemplarFilter, MeterProvider
from opentelemetry.sdk.metrics import Histogram as SdkHistogram
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Metric,
    MetricReader,
    MetricsData,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.metrics.view import DefaultAggregation
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from ._aggregated_histogram import AggregatedHistogram

__all__ = ["BackendMeterProvider"]

_logger = logging.getLogger(__name__)

# The SDK's limit of attribute sets per instrument and reader, unless the reader sets one.
_DEFAULT_CARDINALITY_LIMIT = 2000


class BackendMeterProvider(MeterProvider):
    """A :class:`MeterProvider` of the SDK whose readers also collect the histograms made with
    :meth:`aggregated_histogram`.

    Delivering them takes SDK surfaces that are not public (a reader's collect callback and its
    per-instrument preferences); when one of them is missing (another SDK version),
    :meth:`aggregated_histogram` answers None and callers record through the SDK as usual.
    """

    def __init__(
        self,
        metric_readers: Sequence[MetricReader] = (),
        resource: Resource | None = None,
        exemplar_filter: ExemplarFilter | None = None,
    ) -> None:
        super().__init__(
            metric_readers=metric_readers, resource=resource, exemplar_filter=exemplar_filter
        )
        self._aggregated_lock = Lock()
        # Replaced, never changed in place: the readers' threads read it without the lock.
        self._aggregated: tuple[AggregatedHistogram, ...] = ()
        self._readers: list[MetricReader] = []
        self._can_aggregate = _has_surfaces(self) and all(
            _has_reader_surfaces(reader) for reader in metric_readers
        )
        if self._can_aggregate:
            for reader in metric_readers:
                self._hook(reader)

    def aggregated_histogram(
        self, histogram: Any, boundaries: Sequence[float]
    ) -> AggregatedHistogram | None:
        """A histogram that the readers collect as ``histogram`` (an instrument of this
        provider, created with ``boundaries`` as its bucket advice, then never recorded to), or
        None when the SDK must record it itself: Views configured, exemplars possible (a filter
        other than AlwaysOff), a reader preferring another aggregation than the default one,
        or an SDK without the surfaces this takes."""
        if not self._can_aggregate or not isinstance(histogram, SdkHistogram):
            return None
        config = self._sdk_config
        if config.views or not isinstance(config.exemplar_filter, AlwaysOffExemplarFilter):
            return None
        kind = type(histogram)
        preferences: list[tuple[MetricReader, AggregationTemporality, int]] = []
        for reader in self._readers:
            preference = _preferences(reader, kind)
            if preference is None:
                return None
            preferences.append((reader, *preference))
        aggregated = AggregatedHistogram(histogram, boundaries)
        for reader, temporality, limit in preferences:
            aggregated.add_reader(reader, temporality, limit)
        with self._aggregated_lock:
            self._aggregated = (*self._aggregated, aggregated)
        return aggregated

    def add_metric_reader(self, metric_reader: MetricReader) -> None:
        """Register ``metric_reader`` (as the SDK does); it collects the aggregated histograms
        too, from now on."""
        super().add_metric_reader(metric_reader)
        if not self._can_aggregate or metric_reader in self._readers:
            return
        if not _has_reader_surfaces(metric_reader):
            _logger.warning(
                "Metric reader %r does not collect the backend's own HTTP histograms",
                metric_reader,
            )
            return
        self._hook(metric_reader)
        for aggregated in self._aggregated:
            preference = _preferences(metric_reader, type(aggregated.instrument))
            # A reader preferring another aggregation still gets the explicit buckets: the
            # histograms were set up before it came.
            temporality, limit = preference or (
                AggregationTemporality.CUMULATIVE,
                _DEFAULT_CARDINALITY_LIMIT,
            )
            aggregated.add_reader(metric_reader, temporality, limit)

    def remove_metric_reader(self, metric_reader: MetricReader) -> None:
        """Unregister ``metric_reader`` (as the SDK does)."""
        super().remove_metric_reader(metric_reader)
        if metric_reader in self._readers:
            self._readers.remove(metric_reader)
            for aggregated in self._aggregated:
                aggregated.remove_reader(metric_reader)

    def _hook(self, reader: MetricReader) -> None:
        self._readers.append(reader)
        # The SDK annotates the callback's second argument as a temporality; it passes (and
        # its own callback takes) ``timeout_millis``.
        reader._set_collect_callback(self._collect)  # type: ignore[arg-type]

    def _collect(self, reader: MetricReader, timeout_millis: float = 10_000) -> MetricsData | None:
        # The SDK's collection, then the aggregated histograms added to it.
        data: MetricsData | None = self._measurement_consumer.collect(
            reader, timeout_millis=timeout_millis
        )
        now = time_ns()
        for aggregated in self._aggregated:
            metric = aggregated.collect(reader, now)
            if metric is not None:
                data = self._with(data, aggregated.instrument.instrumentation_scope, metric)
        return data

    def _with(
        self, data: MetricsData | None, scope: InstrumentationScope, metric: Metric
    ) -> MetricsData:
        """``data`` plus ``metric`` in ``scope`` (first in it: the SDK lists a scope's
        instruments as they are first measured, and requests are measured before any
        collection observes the asynchronous instruments)."""
        if data is None or not data.resource_metrics:
            resource = self._sdk_config.resource
            return MetricsData(
                resource_metrics=[
                    ResourceMetrics(
                        resource=resource,
                        scope_metrics=[ScopeMetrics(scope, [metric], _schema_url(scope))],
                        schema_url=resource.schema_url,
                    )
                ]
            )
        first, *others = data.resource_metrics
        scopes = list(first.scope_metrics)
        for index, found in enumerate(scopes):
            if found.scope == scope:
                scopes[index] = ScopeMetrics(scope, [metric, *found.metrics], found.schema_url)
                break
        else:
            scopes.append(ScopeMetrics(scope, [metric], _schema_url(scope)))
        return MetricsData(
            resource_metrics=[
                ResourceMetrics(first.resource, scopes, first.schema_url),
                *others,
            ]
        )


def _schema_url(scope: InstrumentationScope) -> str:
    # As the SDK's own scope metrics: the scope's schema URL, None included.
    return cast(str, scope.schema_url)


def _has_surfaces(provider: MeterProvider) -> bool:
    return hasattr(provider, "_measurement_consumer") and hasattr(provider, "_sdk_config")


def _has_reader_surfaces(reader: MetricReader) -> bool:
    return all(
        hasattr(reader, name)
        for name in (
            "_set_collect_callback",
            "_instrument_class_temporality",
            "_instrument_class_aggregation",
        )
    )


def _preferences(
    reader: MetricReader, kind: type[SdkHistogram]
) -> tuple[AggregationTemporality, int] | None:
    """The temporality and cardinality limit ``reader`` wants for instruments of ``kind``, or
    None when it wants another aggregation than the default (explicit buckets)."""
    aggregation = reader._instrument_class_aggregation.get(kind)
    temporality = reader._instrument_class_temporality.get(kind)
    if not isinstance(aggregation, DefaultAggregation) or temporality is None:
        return None
    limits = getattr(reader, "_instrument_class_cardinality_limit", None) or {}
    return temporality, limits.get(kind, _DEFAULT_CARDINALITY_LIMIT)
