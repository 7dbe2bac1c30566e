"""``alpha.core.metrics`` and ``alpha.core.tracing``: a plugin's own instruments and spans,
under its meter and tracer (``backstage-plugin-<id>`` unless configured otherwise)."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from backstage_runtime import (
    BackstageCredentials,
    BackstageUserPrincipal,
    create_backend_plugin,
    metrics_service_ref,
    root_metrics_service_ref,
    tracing_service_ref,
)
from backstage_runtime.api.errors import ConfigError
from backstage_runtime.defaults.telemetry import read_telemetry_settings
from backstage_runtime.testing import mock_services

from ._support import telemetry_backend

pytestmark = pytest.mark.anyio


def instrumenting_plugin(plugin_id: str) -> Any:
    def register(env: Any) -> None:
        async def init(*, metrics: Any, tracing: Any) -> None:
            metrics.create_counter("backstage.plugin.items.created", unit="{item}").add(3)
            histogram = metrics.create_histogram(
                "backstage.plugin.items.size", unit="By", explicit_bucket_boundaries=[10, 100]
            )
            histogram.record(42, {"kind": "note"})
            user = BackstageCredentials(principal=BackstageUserPrincipal("user:default/alice"))
            with tracing.start_active_span("index", credentials=user) as span:
                span.set_attribute("items", 3)
            with (
                pytest.raises(ValueError, match="no such item"),
                tracing.start_active_span("broken"),
            ):
                raise ValueError("no such item")

        env.register_init(
            deps={"metrics": metrics_service_ref, "tracing": tracing_service_ref}, init=init
        )

    return create_backend_plugin(plugin_id=plugin_id, register=register)


def attrs(value: Any, name: str) -> Any:
    assert value is not None
    return getattr(value, name)


def scopes(reader: InMemoryMetricReader) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    data = reader.get_metrics_data()
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            entry = found.setdefault(scope.scope.name, {"scope": scope.scope, "metrics": {}})
            for metric in scope.metrics:
                entry["metrics"][metric.name] = list(metric.data.data_points)
    return found


async def test_a_plugins_instruments_and_spans_are_its_own() -> None:
    reader = InMemoryMetricReader()
    exporter = InMemorySpanExporter()
    config = {
        "backend": {
            "metrics": {"plugin": {"renamed": {"meter": {"name": "custom", "version": "2.0"}}}},
            "tracing": {"capture": {"endUser": True}},
        }
    }
    async with telemetry_backend(
        [instrumenting_plugin("todo"), instrumenting_plugin("renamed")],
        config=config,
        metric_readers=[reader],
        span_processors=[SimpleSpanProcessor(exporter)],
    ):
        found = scopes(reader)

    todo = found["backstage-plugin-todo"]
    assert todo["scope"].attributes == {"backstage.plugin.id": "todo"}
    [created] = todo["metrics"]["backstage.plugin.items.created"]
    assert created.value == 3
    [size] = todo["metrics"]["backstage.plugin.items.size"]
    assert dict(size.attributes) == {"kind": "note"}
    assert list(size.explicit_bounds) == [10, 100]
    assert found["custom"]["scope"].version == "2.0"

    spans = [span for span in exporter.get_finished_spans() if span.name in ("index", "broken")]
    assert {attrs(span.instrumentation_scope, "name") for span in spans} == {
        "backstage-plugin-todo",
        "backstage-plugin-renamed",
    }
    index = dict(next(span for span in spans if span.name == "index").attributes or {})
    assert index["backstage.principal.type"] == "user"
    assert index["enduser.id"] == "user:default/alice"
    assert index["items"] == 3
    broken = next(span for span in spans if span.name == "broken")
    assert broken.status.status_code is StatusCode.ERROR
    assert dict(broken.attributes or {})["error.type"] == "ValueError"
    assert broken.events[0].name == "exception"


async def test_the_root_metrics_service_hands_out_each_plugins_meter() -> None:
    reader = InMemoryMetricReader()
    async with telemetry_backend(metric_readers=[reader]) as (backend, _):
        root = await backend.get_service(root_metrics_service_ref)
        root.create_counter("backstage.core.things").add(1)
        root.for_plugin("catalog").create_counter("backstage.plugin.catalog.things").add(2)
        found = scopes(reader)
    assert "backstage.core.things" in found["backstage"]["metrics"]
    assert "backstage.plugin.catalog.things" in found["backstage-plugin-catalog"]["metrics"]


async def test_end_user_is_left_out_unless_captured() -> None:
    exporter = InMemorySpanExporter()
    async with telemetry_backend(
        [instrumenting_plugin("todo")], span_processors=[SimpleSpanProcessor(exporter)]
    ):
        pass
    [span] = [span for span in exporter.get_finished_spans() if span.name == "index"]
    index = dict(span.attributes or {})
    assert index["backstage.principal.type"] == "user"
    assert "enduser.id" not in index


@pytest.mark.parametrize(
    ("metrics", "key"),
    [
        ({"prometheus": {"enabled": True, "port": 70000}}, "backend.metrics.prometheus.port"),
        ({"prometheus": {"enabled": True, "port": 1.5}}, "backend.metrics.prometheus.port"),
        ({"otlp": {"interval": {"seconds": 0}}}, "backend.metrics.otlp.interval"),
        ({"prometheus": {"enabled": 3}}, "backend.metrics.prometheus.enabled"),
    ],
)
def test_bad_settings_name_the_key(metrics: dict[str, Any], key: str) -> None:
    config = mock_services.root_config({"backend": {"metrics": metrics}})
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        read_telemetry_settings(config)


def test_exporters_are_off_unless_configured() -> None:
    settings = read_telemetry_settings(mock_services.root_config({}))
    assert (settings.metrics, settings.tracing) == (False, False)
    settings = read_telemetry_settings(
        mock_services.root_config(
            {"backend": {"metrics": {"prometheus": {"enabled": False}}, "tracing": {"otlp": {}}}}
        )
    )
    assert settings.prometheus is None
    assert settings.tracing is True
