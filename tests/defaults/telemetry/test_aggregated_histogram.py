"""The backend's own aggregation of the HTTP duration histogram gives the readers what the SDK's
own recording gives them: the same points (buckets, sum, count, min, max, attributes), the
same temporality and start times, the same cardinality limit and overflow point, and the same
Prometheus exposition."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import anyio
import pytest
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import (
    AlwaysOffExemplarFilter,
    Histogram,
    MeterProvider,
    TraceBasedExemplarFilter,
)
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    HistogramDataPoint,
    InMemoryMetricReader,
    Metric,
    MetricReader,
)
from opentelemetry.sdk.metrics.export import Histogram as HistogramData
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, generate_latest

from backstage_runtime.defaults.root_http_router._http_metrics import HttpMetricsMiddleware
from backstage_runtime.defaults.telemetry import _meter_provider
from backstage_runtime.defaults.telemetry._meter_provider import BackendMeterProvider
from backstage_runtime.defaults.telemetry._sdk import build_meter_provider
from backstage_runtime.defaults.telemetry._settings import TelemetrySettings

NAME = "http.server.request.duration"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
RESOURCE = Resource.create({"service.name": "aggregated-test"})

# Dyadic durations (exact in binary): sums then do not depend on the order of the additions,
# so the two aggregations' sums can be compared exactly. Some sit on a bucket bound (1, 5, 10).
VALUES = (0.0009765625, 0.0078125, 0.03125, 0.0625, 0.125, 0.5, 1, 3.5, 5, 10, 12.25)


def attributes(index: int) -> dict[str, Any]:
    return {
        "http.request.method": "GET",
        "url.scheme": "http",
        "network.protocol.version": "1.1",
        "http.response.status_code": 200 + index,
        "http.route": f"/api/p/r{index}",
        "backstage.plugin.id": "p",
    }


class Pair:
    """The same measurements, through the SDK (``sdk``) and through the aggregation (``ours``)."""

    def __init__(self, readers: Sequence[MetricReader], ours: Sequence[MetricReader]) -> None:
        self.sdk_provider = MeterProvider(
            metric_readers=readers, resource=RESOURCE, exemplar_filter=AlwaysOffExemplarFilter()
        )
        self.provider = BackendMeterProvider(
            metric_readers=ours, resource=RESOURCE, exemplar_filter=AlwaysOffExemplarFilter()
        )
        self.sdk = self.sdk_provider.get_meter("scope").create_histogram(
            NAME, unit="s", description="Duration.", explicit_bucket_boundaries_advisory=BUCKETS
        )
        histogram = self.provider.get_meter("scope").create_histogram(
            NAME, unit="s", description="Duration.", explicit_bucket_boundaries_advisory=BUCKETS
        )
        aggregated = self.provider.aggregated_histogram(histogram, BUCKETS)
        assert aggregated is not None
        self.ours = aggregated

    def record(self, index: int, value: float) -> None:
        self.sdk.record(value, attributes(index))
        if not self.ours.record(index, value):
            self.ours.record_new(index, value, attributes(index))

    def record_all(self, measurements: Iterable[tuple[int, float]]) -> None:
        for index, value in measurements:
            self.record(index, value)


def histogram_of(reader: InMemoryMetricReader) -> Metric | None:
    data = reader.get_metrics_data()
    if data is None:
        return None
    found = [
        metric
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == NAME
    ]
    return found[0] if found else None


def data_points(metric: Metric | None) -> list[HistogramDataPoint]:
    """The histogram data points of ``metric`` (none without it)."""
    if metric is None:
        return []
    data = metric.data
    assert isinstance(data, HistogramData)
    return list(data.data_points)


def temporality_of(metric: Metric) -> AggregationTemporality:
    data = metric.data
    assert isinstance(data, HistogramData)
    return data.aggregation_temporality


def without_times(point: HistogramDataPoint) -> tuple[Any, ...]:
    return (
        tuple(sorted(point.attributes.items())) if point.attributes else (),
        point.count,
        point.sum,
        point.bucket_counts,
        point.explicit_bounds,
        point.min,
        point.max,
        tuple(point.exemplars),
    )


def points(metric: Metric | None) -> list[tuple[Any, ...]]:
    return sorted(without_times(point) for point in data_points(metric))


def measurements(sets: int, rounds: int) -> list[tuple[int, float]]:
    return [
        (index, VALUES[(index * 7 + round_) % len(VALUES)])
        for round_ in range(rounds)
        for index in range(sets)
    ]


@pytest.mark.parametrize(
    "temporality", [AggregationTemporality.CUMULATIVE, AggregationTemporality.DELTA]
)
def test_points_are_the_sdks_collection_after_collection(
    temporality: AggregationTemporality,
) -> None:
    preferred: dict[type, AggregationTemporality] = {Histogram: temporality}
    sdk_reader = InMemoryMetricReader(preferred_temporality=preferred)
    reader = InMemoryMetricReader(preferred_temporality=preferred)
    pair = Pair([sdk_reader], [reader])
    assert histogram_of(reader) is None
    assert histogram_of(sdk_reader) is None
    for batch in (measurements(5, 3), [], measurements(2, 4), measurements(7, 1)):
        pair.record_all(batch)
        expected, found = histogram_of(sdk_reader), histogram_of(reader)
        assert points(found) == points(expected)
        if expected is None:
            assert found is None
            continue
        assert found is not None
        assert (found.name, found.unit, found.description) == (NAME, "s", "Duration.")
        assert temporality_of(found) is temporality


def test_the_metric_is_in_its_meters_scope_with_the_providers_resource() -> None:
    reader = InMemoryMetricReader()
    pair = Pair([], [reader])
    pair.provider.get_meter("other").create_counter("other.count").add(1)
    pair.record(1, 0.5)
    data = reader.get_metrics_data()
    assert data is not None
    [resource] = data.resource_metrics
    assert resource.resource == RESOURCE
    scopes = {
        scope.scope.name: [metric.name for metric in scope.metrics]
        for scope in resource.scope_metrics
    }
    assert scopes == {"other": ["other.count"], "scope": [NAME]}


def test_cumulative_points_keep_their_start_and_delta_ones_start_at_the_last_collection() -> None:
    cumulative = InMemoryMetricReader()
    delta = InMemoryMetricReader(preferred_temporality={Histogram: AggregationTemporality.DELTA})
    pair = Pair([], [cumulative, delta])
    pair.record(1, 0.5)
    first = histogram_of(cumulative)
    first_delta = histogram_of(delta)
    pair.record(1, 0.25)
    second = histogram_of(cumulative)
    second_delta = histogram_of(delta)
    assert first is not None
    assert second is not None
    assert first_delta is not None
    assert second_delta is not None
    [point_1] = data_points(first)
    [point_2] = data_points(second)
    assert point_2.start_time_unix_nano == point_1.start_time_unix_nano < point_1.time_unix_nano
    assert (point_1.count, point_2.count) == (1, 2)
    [delta_1] = data_points(first_delta)
    [delta_2] = data_points(second_delta)
    assert delta_1.start_time_unix_nano < delta_1.time_unix_nano
    assert delta_2.start_time_unix_nano == delta_1.time_unix_nano
    assert (delta_1.count, delta_2.count) == (1, 1)
    assert (delta_2.min, delta_2.max) == (0.25, 0.25)


@pytest.mark.parametrize(
    "temporality", [AggregationTemporality.CUMULATIVE, AggregationTemporality.DELTA]
)
def test_attribute_sets_past_the_readers_limit_go_to_the_overflow_point_as_in_the_sdk(
    temporality: AggregationTemporality,
) -> None:
    def reader() -> InMemoryMetricReader:
        return InMemoryMetricReader(
            preferred_temporality={Histogram: temporality}, cardinality_limits={Histogram: 4}
        )

    sdk_reader, ours = reader(), reader()
    pair = Pair([sdk_reader], [ours])
    batches = (measurements(3, 2), measurements(9, 2), measurements(6, 1))
    for batch, overflows in zip(batches, (False, True, True), strict=True):
        pair.record_all(batch)
        expected = points(histogram_of(sdk_reader))
        assert points(histogram_of(ours)) == expected
        overflow = [point for point in expected if point[0] == (("otel.metric.overflow", True),)]
        assert len(overflow) == overflows
        assert len(expected) == (5 if overflows else 3)


def test_attribute_sets_between_collections_stay_bounded_by_the_limit() -> None:
    def reader() -> InMemoryMetricReader:
        return InMemoryMetricReader(cardinality_limits={Histogram: 4})

    sdk_reader, ours = reader(), reader()
    pair = Pair([sdk_reader], [ours])
    for index in range(50):
        pair.record(index, 0.5)
        # Never more attribute sets held than the limit, however long nobody collects.
        assert len(pair.ours._interval) <= 4
    assert points(histogram_of(ours)) == points(histogram_of(sdk_reader))


def test_the_default_limit_is_the_sdks_2000_attribute_sets() -> None:
    sdk_reader, ours = InMemoryMetricReader(), InMemoryMetricReader()
    pair = Pair([sdk_reader], [ours])
    pair.record_all(measurements(2100, 1))
    expected = points(histogram_of(sdk_reader))
    assert len(expected) == 2001
    assert points(histogram_of(ours)) == expected


def test_each_reader_sees_every_measurement_once_whoever_collects_first() -> None:
    sdk_cumulative = InMemoryMetricReader()
    sdk_delta = InMemoryMetricReader(
        preferred_temporality={Histogram: AggregationTemporality.DELTA}
    )
    cumulative = InMemoryMetricReader()
    delta = InMemoryMetricReader(preferred_temporality={Histogram: AggregationTemporality.DELTA})
    pair = Pair([sdk_cumulative, sdk_delta], [cumulative, delta])
    pair.record_all(measurements(3, 2))
    assert points(histogram_of(cumulative)) == points(histogram_of(sdk_cumulative))
    pair.record_all(measurements(4, 1))
    assert points(histogram_of(cumulative)) == points(histogram_of(sdk_cumulative))
    assert points(histogram_of(delta)) == points(histogram_of(sdk_delta))
    # Nothing measured since: no delta point, for either.
    assert points(histogram_of(delta)) == points(histogram_of(sdk_delta)) == []


def test_the_prometheus_exposition_is_the_sdks() -> None:
    sdk_registry = CollectorRegistry(auto_describe=False)
    registry = CollectorRegistry(auto_describe=False)
    pair = Pair(
        [PrometheusMetricReader(registry=sdk_registry)], [PrometheusMetricReader(registry=registry)]
    )
    for batch in (measurements(4, 3), measurements(6, 2)):
        pair.record_all(batch)
        expected = generate_latest(sdk_registry).decode()
        assert "http_server_request_duration_seconds_bucket" in expected
        assert generate_latest(registry).decode() == expected


def test_concurrent_collections_lose_and_repeat_no_measurement() -> None:
    cumulative = InMemoryMetricReader()
    delta = InMemoryMetricReader(preferred_temporality={Histogram: AggregationTemporality.DELTA})
    pair = Pair([], [cumulative, delta])
    aggregated = pair.ours
    per_thread, threads = 2000, 4
    delta_counts: list[int] = []
    done = threading.Event()

    def record(offset: int) -> None:
        for number in range(per_thread):
            key = (offset + number) % 5
            if not aggregated.record(key, 0.5):
                aggregated.record_new(key, 0.5, attributes(key))

    def collect() -> None:
        while not done.is_set():
            for metric in (histogram_of(delta), histogram_of(cumulative)):
                if metric is not None and temporality_of(metric) is AggregationTemporality.DELTA:
                    delta_counts.extend(point.count for point in data_points(metric))

    collectors = [threading.Thread(target=collect) for _ in range(2)]
    recorders = [threading.Thread(target=record, args=(index,)) for index in range(threads)]
    for thread in (*collectors, *recorders):
        thread.start()
    for thread in recorders:
        thread.join()
    done.set()
    for thread in collectors:
        thread.join()
    final = histogram_of(cumulative)
    last_delta = histogram_of(delta)
    if last_delta is not None:
        delta_counts.extend(point.count for point in data_points(last_delta))
    assert final is not None
    total = sum(point.count for point in data_points(final))
    assert total == per_thread * threads
    assert sum(delta_counts) == per_thread * threads
    assert sum(point.sum for point in data_points(final)) == 0.5 * total


def test_a_reader_added_later_collects_the_measurements_from_then_on() -> None:
    pair = Pair([], [InMemoryMetricReader()])
    pair.record(1, 0.5)
    late = InMemoryMetricReader()
    pair.provider.add_metric_reader(late)
    pair.record(1, 0.25)
    found = histogram_of(late)
    assert found is not None
    [point] = data_points(found)
    assert (point.count, point.sum) == (1, 0.25)


def no_aggregation(provider: MeterProvider) -> bool:
    histogram = provider.get_meter("scope").create_histogram(
        NAME, explicit_bucket_boundaries_advisory=BUCKETS
    )
    return BackendMeterProvider.aggregated_histogram(provider, histogram, BUCKETS) is None  # type: ignore[arg-type]


def test_views_exemplars_another_aggregation_or_missing_sdk_surfaces_leave_it_to_the_sdk() -> None:
    off = AlwaysOffExemplarFilter()
    assert no_aggregation(
        BackendMeterProvider([InMemoryMetricReader()], exemplar_filter=TraceBasedExemplarFilter())
    )
    views = BackendMeterProvider([InMemoryMetricReader()], exemplar_filter=off)
    views._sdk_config.views = [View(instrument_name=NAME)]
    assert no_aggregation(views)
    exponential = InMemoryMetricReader(
        preferred_aggregation={Histogram: ExponentialBucketHistogramAggregation()}
    )
    assert no_aggregation(BackendMeterProvider([exponential], exemplar_filter=off))
    assert not no_aggregation(BackendMeterProvider([InMemoryMetricReader()], exemplar_filter=off))


def test_without_the_sdk_surfaces_it_takes_the_middleware_records_through_the_sdk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As with an SDK version whose private surfaces moved.
    monkeypatch.setattr(_meter_provider, "_has_surfaces", lambda provider: False)
    reader = InMemoryMetricReader()
    provider = BackendMeterProvider([reader], exemplar_filter=AlwaysOffExemplarFilter())
    assert no_aggregation(provider)
    middleware = HttpMetricsMiddleware(nothing_at_all, provider.get_meter("http"), provider)
    assert middleware._aggregated is None
    anyio.run(serve, middleware, [("GET", "/a"), ("GET", "/a")])
    metric = histogram_of(reader)
    assert metric is not None
    [point] = data_points(metric)
    assert point.count == 2


async def nothing_at_all(scope: Any, receive: Any, send: Any) -> None:
    return None


async def serve(middleware: HttpMetricsMiddleware, requests: Sequence[tuple[str, str]]) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Mapping[str, Any]) -> None:
        return None

    for method, path in requests:
        scope = {
            "type": "http",
            "method": method,
            "path": path,
            "scheme": "http",
            "http_version": "1.1",
            "headers": [],
        }
        await middleware(scope, receive, send)


@pytest.mark.anyio
async def test_the_middleware_aggregates_with_the_backends_provider_and_records_otherwise() -> None:
    requests = [("GET", "/a"), ("POST", "/b"), ("GET", "/c"), ("BREW", "/d")]
    results = []
    for provider_class in (MeterProvider, BackendMeterProvider):
        reader = InMemoryMetricReader()
        provider = provider_class(
            metric_readers=[reader], exemplar_filter=AlwaysOffExemplarFilter()
        )
        middleware = HttpMetricsMiddleware(nothing_at_all, provider.get_meter("http"), provider)
        assert (middleware._aggregated is not None) is (provider_class is BackendMeterProvider)
        await serve(middleware, requests)
        metric = histogram_of(reader)
        assert metric is not None
        results.append(
            sorted(
                (tuple(sorted((p.attributes or {}).items())), p.count) for p in data_points(metric)
            )
        )
    assert results[0] == results[1]
    assert len(results[0]) == 3


@pytest.mark.parametrize(
    ("tracing", "variable", "filter_class"),
    [
        (False, None, AlwaysOffExemplarFilter),
        (False, "trace_based", AlwaysOffExemplarFilter),
        (True, None, TraceBasedExemplarFilter),
        (False, "always_on", None),
    ],
)
def test_without_tracing_the_exemplar_filter_is_always_off_unless_the_variable_says_otherwise(
    monkeypatch: pytest.MonkeyPatch, tracing: bool, variable: str | None, filter_class: type | None
) -> None:
    if variable is None:
        monkeypatch.delenv("OTEL_METRICS_EXEMPLAR_FILTER", raising=False)
    else:
        monkeypatch.setenv("OTEL_METRICS_EXEMPLAR_FILTER", variable)
    provider, _ = build_meter_provider(
        TelemetrySettings(), [InMemoryMetricReader()], tracing=tracing
    )
    try:
        chosen = type(provider._sdk_config.exemplar_filter).__name__
        assert chosen == (
            filter_class.__name__ if filter_class is not None else "AlwaysOnExemplarFilter"
        )
    finally:
        provider.shutdown()
