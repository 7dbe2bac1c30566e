"""A plugin router serving blueprints beside an ASGI application matches each request once:
the match that chose the blueprints is the one their app serves the request with.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from _support.asgi import Recorder, http_scope
from quart import Blueprint, request
from werkzeug.routing import MapAdapter

from backstage_runtime.defaults.http_router._plugin_dispatch import PluginDispatch
from backstage_runtime.http_toolkit import ErrorResponder, RequestInfo, set_request_info
from backstage_runtime.testing import MockRootLogger

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # Quart is asyncio-only


async def fallback_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": f"app {scope['method']}".encode()})


def dispatch(*, note_routes: bool = False) -> Any:  # called with test doubles
    routes = Blueprint("items", __name__)

    @routes.get("/items/<int:item>")
    async def item(item: int) -> Any:
        return {"item": item, "rule": str(request.url_rule), "args": request.view_args}

    plugin = PluginDispatch(
        "demo", ErrorResponder(MockRootLogger(), include_stack=False), note_routes=note_routes
    )
    plugin.use(routes)
    plugin.use(fallback_app)
    return plugin


def scope_of(path: str, method: str = "GET") -> dict[str, Any]:
    return {
        **http_scope("/api/demo" + path, method=method, root_path="/api/demo"),
        "scheme": "http",
        "client": ("127.0.0.1", 1),
        "headers": [(b"host", b"localhost:7007")],
    }


def request_once() -> Any:
    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await never.wait()
        raise AssertionError("unreachable")  # pragma: no cover

    return receive


@pytest.fixture
def matches(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths werkzeug matches while the test runs."""
    seen: list[str] = []
    original = MapAdapter.match

    def counted(self: MapAdapter, path_info: str | None = None, *args: Any, **kwargs: Any) -> Any:
        seen.append(path_info if path_info is not None else self.path_info)
        return original(self, path_info, *args, **kwargs)

    monkeypatch.setattr(MapAdapter, "match", counted)
    return seen


async def test_a_blueprint_route_beside_an_app_is_matched_once(matches: list[str]) -> None:
    send = Recorder()
    await dispatch()(scope_of("/items/7"), request_once(), send)

    assert (send.status, send.body) == (
        200,
        b'{"item":7,"rule":"/items/<int:item>","args":{"item":7}}',
    )
    assert matches == ["/items/7"]


async def test_a_request_no_route_takes_goes_to_the_app(matches: list[str]) -> None:
    sends = [Recorder(), Recorder()]
    await dispatch()(scope_of("/items/7", "DELETE"), request_once(), sends[0])
    await dispatch()(scope_of("/other"), request_once(), sends[1])

    assert [send.body for send in sends] == [b"app DELETE", b"app GET"]
    assert matches == ["/items/7", "/other"]


async def test_the_probed_match_names_the_route_of_the_request() -> None:
    scope = scope_of("/items/7")
    info = RequestInfo("id", 0.0)
    set_request_info(scope, info)
    await dispatch(note_routes=True)(scope, request_once(), Recorder())

    assert info.route == "/api/demo/items/<int:item>"
