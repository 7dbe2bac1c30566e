"""runtime.httpClient: one shared aiohttp session per backend, closed when the backend stops."""

from __future__ import annotations

from typing import Any

import pytest
from _support.features import plugin_with_init
from _support.http import plugin_with_routes
from quart import Blueprint

from backstage_runtime.api import runtime_services
from backstage_runtime.testing import start_test_backend

pytestmark = pytest.mark.anyio


async def test_plugins_share_one_session_that_closes_at_stop() -> None:
    sessions: list[Any] = []
    routes = Blueprint("echo", __name__)

    @routes.get("/echo")
    async def echo() -> Any:
        return {"echo": True}

    features = [
        plugin_with_routes("echo", routes),
        plugin_with_init(
            "a", {"http": runtime_services.http_client}, lambda http: sessions.append(http)
        ),
        plugin_with_init(
            "b", {"http": runtime_services.http_client}, lambda http: sessions.append(http)
        ),
    ]
    async with start_test_backend(features=features) as test:
        async with sessions[0].get(await test.url("/api/echo/echo")) as response:
            body = await response.json()
        assert not sessions[0].closed

    assert body == {"echo": True}
    assert sessions[0] is sessions[1]
    assert sessions[0].closed
