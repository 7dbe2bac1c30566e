"""A plugin's blueprint websockets are served under ``/api/<pluginId>``, over a real socket."""

from __future__ import annotations

import aiohttp
import anyio
import pytest
from _support.http import plugin_with_routes
from quart import Blueprint, g, websocket

from backstage_runtime.testing import start_test_backend

pytestmark = pytest.mark.anyio


def echo_routes() -> Blueprint:
    routes = Blueprint("echo", __name__)

    @routes.before_app_websocket
    async def greet() -> None:
        g.greeting = "hello"

    @routes.websocket("/echo/<name>")
    async def echo(name: str) -> None:
        while True:
            message = await websocket.receive()
            await websocket.send(f"{g.greeting} {name}: {message!s}")

    return routes


async def test_a_blueprint_websocket_echoes_over_the_server() -> None:
    plugin = plugin_with_routes("sockets", echo_routes())
    async with start_test_backend(features=[plugin]) as test:
        url = (await test.url("/api/sockets/echo/bob")).replace("http://", "ws://", 1)
        with anyio.fail_after(10):
            async with aiohttp.ClientSession() as session, session.ws_connect(url) as socket:
                await socket.send_str("one")
                first = await socket.receive_str()
                await socket.send_str("two")
                second = await socket.receive_str()

    assert (first, second) == ("hello bob: one", "hello bob: two")
