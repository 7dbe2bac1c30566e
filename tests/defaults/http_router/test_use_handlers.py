"""What a plugin's ``http_router.use`` accepts: blueprints alone, in lists, with one ASGI app."""

from __future__ import annotations

from typing import Any

import pytest
from _support.features import plugin_with_init
from _support.http import request
from quart import Blueprint

from backstage_runtime.api import core_services
from backstage_runtime.testing import start_test_backend

pytestmark = pytest.mark.anyio


def blueprint(name: str) -> Blueprint:
    routes = Blueprint(name, __name__)

    @routes.get(f"/{name}")
    async def answer() -> Any:
        return {"from": name}

    return routes


async def fallback_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": f"app {scope['path']}".encode()})


async def test_a_list_and_a_tuple_of_blueprints_register_each_and_leave_the_app_slot_free() -> None:
    def init(http: Any) -> None:
        http.use([blueprint("one"), blueprint("two")])
        http.use((blueprint("three"),))
        http.use(fallback_app)  # the single ASGI slot is still free
        http.add_auth_policy(path="/", allow="unauthenticated")

    plugin = plugin_with_init("multi", {"http": core_services.http_router}, init)
    async with start_test_backend(features=[plugin]) as test:
        replies = [
            await request("GET", await test.url(f"/api/multi/{name}"))
            for name in ("one", "two", "three", "other")
        ]

    assert [reply.status for reply in replies] == [200, 200, 200, 200]
    assert [reply.json() for reply in replies[:3]] == [
        {"from": "one"},
        {"from": "two"},
        {"from": "three"},
    ]
    assert replies[3].body == b"app /api/multi/other"


async def test_a_list_holding_anything_but_blueprints_is_refused_naming_the_plugin() -> None:
    refused: list[BaseException] = []

    def init(http: Any) -> None:
        for handler in ([blueprint("one"), fallback_app], []):
            try:
                http.use(handler)
            except TypeError as error:
                refused.append(error)

    plugin = plugin_with_init("mixed", {"http": core_services.http_router}, init)
    async with start_test_backend(features=[plugin]):
        pass

    assert len(refused) == 2
    assert all("Plugin 'mixed'" in str(error) for error in refused)
