"""The Prometheus scrape endpoint: off by default, on a port of its own, listing the built-in
instruments after real traffic (real sockets, PostgreSQL for the pool)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from _support.polling import eventually

from backstage_runtime import runtime_services
from backstage_runtime.api.errors import ConfigError
from backstage_runtime.testing import start_test_backend

from ._support import POSTGRES, busy_plugin, telemetry_backend

pytestmark = pytest.mark.anyio

PROMETHEUS = {"prometheus": {"enabled": True, "host": "127.0.0.1", "port": 0}}


async def scrape(address: tuple[str, int]) -> str:
    host, port = address
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://{host}:{port}/metrics") as response,
    ):
        assert response.status == 200
        assert response.content_type == "text/plain"
        return await response.text()


def samples(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(name + "{")]


async def test_scrape_lists_http_database_cache_and_scheduler_instruments() -> None:
    ticks: list[int] = []
    config = {"backend": {"metrics": PROMETHEUS, "database": POSTGRES}}
    async with telemetry_backend([busy_plugin(ticks=ticks)], config=config) as (backend, telemetry):
        assert telemetry.prometheus_address is not None
        async with aiohttp.ClientSession() as session:
            for _ in range(2):
                async with session.get(await backend.url("/api/todo/items/7")) as response:
                    assert response.status == 200
        await eventually(lambda: len(ticks) >= 2)
        text = await scrape(telemetry.prometheus_address)

    [served] = [
        line
        for line in samples(text, "http_server_request_duration_seconds_count")
        if 'http_route="/api/todo/items/<item_id>"' in line
    ]
    assert 'http_request_method="GET"' in served
    assert 'http_response_status_code="200"' in served
    assert 'backstage_plugin_id="todo"' in served
    assert served.endswith(" 2.0")
    assert samples(text, "http_server_active_requests")

    [statements] = [
        line
        for line in samples(text, "db_client_operation_duration_seconds_count")
        if 'db_operation_name="SELECT"' in line and 'backstage_plugin_id="todo"' in line
    ]
    assert 'db_system_name="postgresql"' in statements
    pools = samples(text, "db_client_connection_count")
    assert any(
        'db_client_connection_pool_name="todo"' in line
        and 'db_client_connection_state="idle"' in line
        for line in pools
    )

    cache = samples(text, "backstage_core_cache_operations_total")
    results = {
        (result, operation)
        for line in cache
        for result in ("hit", "miss", "ok")
        for operation in ("get", "set")
        if f'cache_result="{result}"' in line and f'cache_operation="{operation}"' in line
    }
    assert results == {("miss", "get"), ("hit", "get"), ("ok", "set")}

    runs = samples(text, "backend_tasks_task_runs_count_total")
    assert any('taskId="tick"' in line and 'result="completed"' in line for line in runs)
    assert any('otel_scope_name="backstage-plugin-todo"' in line for line in runs)


async def test_metrics_are_not_served_on_the_backends_own_port() -> None:
    async with (
        telemetry_backend(config={"backend": {"metrics": PROMETHEUS}}) as (backend, _),
        aiohttp.ClientSession() as session,
    ):
        for path in ("/metrics", "/api/metrics", "/.backstage/metrics"):
            async with session.get(await backend.url(path)) as response:
                assert response.status == 404, path


async def test_without_config_there_is_no_endpoint_and_nothing_records() -> None:
    async with start_test_backend() as backend:
        telemetry = await backend.get_service(runtime_services.telemetry)
    assert telemetry.metrics_enabled is False
    assert telemetry.tracing_enabled is False
    assert getattr(telemetry, "prometheus_address", None) is None


def test_without_config_no_sdk_provider_exporter_or_prometheus_client_is_loaded() -> None:
    # redis-py imports the SDK's metrics module by itself when it is installed, so the check
    # is on what only our set-up would load: the SDK's tracing, exporters, prometheus_client.
    script = (
        "import anyio, sys\n"
        "from backstage_runtime.testing import start_test_backend\n"
        "from defaults.telemetry._support import busy_plugin\n"
        "async def main():\n"
        "    async with start_test_backend(features=[busy_plugin()]):\n"
        "        pass\n"
        "anyio.run(main)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk.trace', "
        "'opentelemetry.exporter', 'prometheus_client'))))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[-1] == "[]"


async def test_a_port_in_use_is_a_config_error_naming_the_key() -> None:
    config = {"backend": {"metrics": PROMETHEUS}}
    async with telemetry_backend(config=config) as (_, telemetry):
        assert telemetry.prometheus_address is not None
        host, port = telemetry.prometheus_address
        taken = {"prometheus": {"enabled": True, "host": host, "port": port}}
        with pytest.raises(Exception, match=r"backend\.metrics\.prometheus") as raised:
            async with telemetry_backend(config={"backend": {"metrics": taken}}):
                pass
    error = raised.value
    while not isinstance(error, ConfigError) and error.__cause__ is not None:
        error = error.__cause__  # type: ignore[assignment]
    assert "backend.metrics.prometheus" in str(error)
