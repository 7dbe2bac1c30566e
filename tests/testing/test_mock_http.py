"""mock_http / create_mock_http: a plugin calling another plugin through discovery, mocked."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
from _support.http import request
from quart import Blueprint
from quart import request as quart_request

from backstage_runtime.api import core_services, create_backend_plugin, runtime_services
from backstage_runtime.testing import MockHttp, create_mock_http, start_test_backend

pytestmark = pytest.mark.anyio


def greeter_plugin() -> Any:
    """GET /api/greeter/hello asks the `names` plugin (found through discovery) for a name."""

    def register(env: Any) -> None:
        def init(http: Any, discovery: Any, auth: Any, http_auth: Any, client: Any) -> None:
            routes = Blueprint("greeter", __name__)

            @routes.get("/hello")
            async def hello() -> Any:
                credentials = await http_auth.credentials(quart_request)
                token = await auth.get_plugin_request_token(
                    on_behalf_of=credentials, target_plugin_id="names"
                )
                url = f"{await discovery.get_base_url('names')}/name"
                headers = {"Authorization": f"Bearer {token.token}"}
                async with client.get(url, headers=headers) as reply:
                    reply.raise_for_status()
                    body = await reply.json()
                return {"greeting": f"hello {body['name']}"}

            http.use(routes)

        env.register_init(
            deps={
                "http": core_services.http_router,
                "discovery": core_services.discovery,
                "auth": core_services.auth,
                "http_auth": core_services.http_auth,
                "client": runtime_services.http_client,
            },
            init=init,
        )

    return create_backend_plugin(plugin_id="greeter", register=register)


async def test_a_plugin_calling_another_through_discovery_gets_the_mocked_answer(
    mock_http: MockHttp,
) -> None:
    async with start_test_backend(features=[greeter_plugin()]) as test:
        names = await MockHttp.plugin_url(test, "names", "/name")
        mock_http.get(names, payload={"name": "ada"})
        answered = await request("GET", await test.url("/api/greeter/hello"))
        # The mock answers once: the second call is unhandled and fails inside the plugin.
        unhandled = await request("GET", await test.url("/api/greeter/hello"))

    assert (answered.status, answered.json()) == (200, {"greeting": "hello ada"})
    assert unhandled.status == 500
    calls = [r for r in mock_http.requests if r.url == names]
    assert len(calls) == 2
    assert calls[0].method == "GET"
    assert calls[0].headers["Authorization"].startswith("Bearer ")
    assert names.startswith("http://localhost:")  # discovery's address, not a passthrough one


async def test_statuses_and_patterns(mock_http: MockHttp) -> None:
    async with start_test_backend(features=[greeter_plugin()]) as test:
        mock_http.get(re.compile(r".*/api/names/name$"), status=503, repeat=True)
        first = await request("GET", await test.url("/api/greeter/hello"))
        second = await request("GET", await test.url("/api/greeter/hello"))
    # raise_for_status() raised with the upstream status, which the error handler keeps.
    assert (first.status, second.status) == (503, 503)
    assert first.json()["error"]["name"] == "ServiceUnavailableError"


async def test_without_the_mock_the_call_reaches_the_real_server() -> None:
    # No `names` plugin: the real request lands on the test backend and gets its 404.
    async with start_test_backend(features=[greeter_plugin()]) as test:
        reply = await request("GET", await test.url("/api/greeter/hello"))
    assert reply.status == 404
    assert "/api/names/name" in reply.json()["error"]["message"]


async def test_unmocked_requests_fail_with_the_url_and_mocks_end_with_the_block() -> None:
    with create_mock_http() as mock:
        mock.post("http://example.invalid/hook", status=201, payload={"ok": True})
        async with aiohttp.ClientSession() as session:
            async with session.post("http://example.invalid/hook", json={"a": 1}) as reply:
                assert (reply.status, await reply.json()) == (201, {"ok": True})
            with pytest.raises(
                aiohttp.ClientConnectionError,
                match=re.escape("Connection refused: GET http://example.invalid/other"),
            ):
                await session.get("http://example.invalid/other")
        assert [(r.method, r.url, r.json) for r in mock.requests] == [
            ("POST", "http://example.invalid/hook", {"a": 1}),
            ("GET", "http://example.invalid/other", None),
        ]
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectorError):  # the real resolver, not the mock
            await session.get("http://example.invalid/hook")


async def test_a_missing_aioresponses_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "aioresponses", None)
    with (
        pytest.raises(ModuleNotFoundError, match=r"backstage-runtime\[test-utils\]"),
        create_mock_http(),
    ):
        pass
