"""The auth service's counters: JWKS fetches by result, verified tokens by type and result."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from joserfc.jwk import ECKey, KeySet
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint

from backstage_runtime.defaults.auth._telemetry import AuthTelemetry
from backstage_runtime.jose import JwksClient, JwksUnavailableError

pytestmark = pytest.mark.anyio


class Recording:
    """A runtime.telemetry recording into an in-memory reader."""

    def __init__(self) -> None:
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.tracer_provider: Any = None
        self.metrics_enabled = True
        self.tracing_enabled = False

    def points(self, name: str) -> dict[tuple[tuple[str, Any], ...], float]:
        data = self.reader.get_metrics_data()
        found: dict[tuple[tuple[str, Any], ...], float] = {}
        assert data is not None
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        for point in metric.data.data_points:
                            assert isinstance(point, NumberDataPoint)
                            key = tuple(sorted(dict(point.attributes or {}).items()))
                            found[key] = point.value
        return found


@asynccontextmanager
async def jwks_server() -> AsyncIterator[str]:
    keys = KeySet([ECKey.generate_key("P-256", parameters={"kid": "k1"})])

    async def good(_request: web.Request) -> web.Response:
        return web.json_response(keys.as_dict(private=False))

    async def bad(_request: web.Request) -> web.Response:
        return web.Response(status=503)

    app = web.Application()
    app.router.add_get("/good", good)
    app.router.add_get("/bad", bad)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_jwks_fetches_are_counted_by_result() -> None:
    telemetry = Recording()
    auth = AuthTelemetry(telemetry)  # type: ignore[arg-type]
    async with jwks_server() as base, aiohttp.ClientSession() as session:
        client = JwksClient(session, on_fetch=auth.jwks_observer())
        await client.key_set(f"{base}/good", "k1")
        await client.key_set(f"{base}/good", "k1")  # cached: no fetch
        with pytest.raises(JwksUnavailableError):
            await client.key_set(f"{base}/bad", "k1")
    assert telemetry.points("backstage.core.auth.jwks.fetches") == {
        (("result", "ok"), ("server.address", "127.0.0.1")): 1,
        (("result", "error"), ("server.address", "127.0.0.1")): 1,
    }


def test_verifications_are_counted_by_plugin_type_and_result() -> None:
    telemetry = Recording()
    record = AuthTelemetry(telemetry).verification_recorder("catalog")  # type: ignore[arg-type]
    assert record is not None
    record("user", "valid")
    record("user", "valid")
    record("unknown", "invalid")
    assert telemetry.points("backstage.core.auth.token.verifications") == {
        (("backstage.plugin.id", "catalog"), ("result", "valid"), ("token.type", "user")): 2,
        (("backstage.plugin.id", "catalog"), ("result", "invalid"), ("token.type", "unknown")): 1,
    }


def test_without_metrics_there_are_no_hooks() -> None:
    telemetry = Recording()
    telemetry.metrics_enabled = False
    auth = AuthTelemetry(telemetry)  # type: ignore[arg-type]
    assert auth.jwks_observer() is None
    assert auth.verification_recorder("catalog") is None
