"""Embedding: another ASGI server runs ``backend.asgi_app``; its lifespan starts and stops us."""

from __future__ import annotations

import socket
from typing import Any

import anyio
import pytest
from _support.http import plugin_with_routes, request
from _support.polling import eventually
from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from quart import Blueprint

from backstage_runtime import create_backend

pytestmark = pytest.mark.anyio


def routes() -> Blueprint:
    blueprint = Blueprint("hello", __name__)

    @blueprint.get("/hello")
    async def hello() -> Any:
        return {"hello": "embedded"}

    return blueprint


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_external_asgi_server_drives_the_backend_through_lifespan() -> None:
    backend = create_backend(
        features=[plugin_with_routes("hello", routes(), policies=[("/hello", "unauthenticated")])],
        config={"backend": {"baseUrl": "http://localhost"}},
        serve_http=False,
    )
    port = free_port()
    config = HypercornConfig()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    shutdown = anyio.Event()
    base = f"http://127.0.0.1:{port}"

    async def responsive() -> bool:
        try:
            return (await request("GET", f"{base}/.backstage/health/v1/readiness")).status == 200
        except OSError:
            return False

    async with anyio.create_task_group() as group:
        # BackendAsgiApp takes plain mapping scopes, not hypercorn's TypedDict scopes (a TypedDict
        # is no MutableMapping to mypy), so hypercorn's ASGIFramework type does not match it.
        app: Any = backend.asgi_app
        group.start_soon(lambda: serve(app, config, shutdown_trigger=shutdown.wait))
        await eventually(responsive, timeout=15)
        assert backend.started
        hello = await request("GET", f"{base}/api/hello/hello")
        missing = await request("GET", f"{base}/nope")
        shutdown.set()

    assert (hello.status, hello.json()) == (200, {"hello": "embedded"})
    assert hello.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert missing.json()["error"]["name"] == "NotFoundError"
    assert not backend.started  # lifespan shutdown stopped it


async def test_requests_before_the_start_get_503() -> None:
    backend = create_backend(serve_http=False)
    replies: list[tuple[int, bytes]] = []

    async def send(message: Any) -> None:
        if message["type"] == "http.response.start":
            replies.append((message["status"], b""))
        else:
            replies[-1] = (replies[-1][0], replies[-1][1] + message.get("body", b""))

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": "/api/x", "headers": []}
    await backend.asgi_app(scope, receive, send)
    assert replies == [
        (
            503,
            b'{"error":{"name":"ServiceUnavailableError","message":"Backend has not started yet"},'
            b'"request":{"method":"GET","url":"/api/x"},"response":{"statusCode":503}}',
        )
    ]
