"""Request bodies are bounded while they are read: 413 ``PayloadTooLargeError`` past the limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from _support.asgi import Recorder, http_scope
from _support.http import plugin_with_routes, request
from quart import Blueprint
from quart import request as quart_request

from backstage_runtime.api import core_services, create_backend_plugin
from backstage_runtime.api.errors import BackendStartupError, ConfigError
from backstage_runtime.defaults.http_router._body_limits import parse_byte_size
from backstage_runtime.http_toolkit import BodyLimitMiddleware, BodyLimits, ErrorResponder
from backstage_runtime.testing import MockRootLogger, start_test_backend

pytestmark = pytest.mark.anyio

_JSON = {"Content-Type": "application/json"}


def counting_routes(calls: list[str]) -> Blueprint:
    routes = Blueprint("bodies", __name__)

    @routes.post("/json")
    async def json_body() -> Any:
        calls.append("json")
        body = await quart_request.get_json()
        return {"items": len(body)}

    @routes.post("/raw")
    async def raw_body() -> Any:
        calls.append("raw")
        return {"bytes": len(await quart_request.get_data())}

    return routes


def json_of(size: int) -> bytes:
    """A JSON array of about ``size`` bytes."""
    return b"[" + b",".join([b"1"] * (size // 2)) + b"]"


async def chunks(data: bytes, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    """``data`` as a chunked body (aiohttp sends no Content-Length for a generator)."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def assert_too_large(reply: Any) -> None:
    assert reply.status == 413, reply.body[:300]
    error = reply.json()["error"]
    assert error["name"] == "PayloadTooLargeError"
    assert error["message"].startswith("request entity too large")
    assert reply.json()["response"] == {"statusCode": 413}


async def test_json_over_100kb_is_refused_declared_or_chunked_and_under_it_passes() -> None:
    calls: list[str] = []
    async with start_test_backend(features=[plugin_with_routes("p", counting_routes(calls))]) as t:
        url = await t.url("/api/p/json")
        declared = await request("POST", url, data=json_of(200 * 1024), headers=_JSON)
        chunked = await request("POST", url, data=chunks(json_of(200 * 1024)), headers=_JSON)
        fits = await request("POST", url, data=json_of(90 * 1024), headers=_JSON)
        entries = list(t.logger.entries)

    assert_too_large(declared)
    assert_too_large(chunked)
    assert "102400 bytes" in declared.json()["error"]["message"]
    assert fits.status == 200
    # A declared length over the limit never reaches the handler.
    assert calls.count("json") == 2
    assert [e for e in entries if e.level == "error"] == []


async def test_limits_are_configurable_per_plugin() -> None:
    calls: list[str] = []
    config = {
        "backend": {
            "bodyLimit": {"other": "10kb", "plugin": {"big": {"json": "1mb"}}},
        }
    }
    features = [
        plugin_with_routes("big", counting_routes(calls)),
        plugin_with_routes("small", counting_routes(calls)),
    ]
    async with start_test_backend(features=features, config=config) as t:
        body = json_of(500 * 1024)
        big = await request("POST", await t.url("/api/big/json"), data=body, headers=_JSON)
        small = await request("POST", await t.url("/api/small/json"), data=body, headers=_JSON)
        raw = await request(
            "POST",
            await t.url("/api/big/raw"),
            data=chunks(b"x" * 20_000, 4096),
            headers={"Content-Type": "application/octet-stream"},
        )

    assert big.status == 200
    assert_too_large(small)
    assert_too_large(raw)
    assert "non-JSON bodies is 10240 bytes" in raw.json()["error"]["message"]


async def test_non_json_bodies_keep_quarts_16mb_by_default() -> None:
    calls: list[str] = []
    async with start_test_backend(features=[plugin_with_routes("p", counting_routes(calls))]) as t:
        reply = await request(
            "POST",
            await t.url("/api/p/raw"),
            data=b"x" * (1 << 20),
            headers={"Content-Type": "application/octet-stream"},
        )

    assert (reply.status, reply.json()) == (200, {"bytes": 1 << 20})


async def test_an_asgi_application_gets_the_same_limit() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        total = 0
        while True:
            message = await receive()
            total += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(total).encode()})

    def register(env: Any) -> None:
        async def init(http: Any) -> None:
            http.use(app)

        env.register_init(deps={"http": core_services.http_router}, init=init)

    plugin = create_backend_plugin(plugin_id="asgi", register=register)
    async with start_test_backend(features=[plugin]) as t:
        url = await t.url("/api/asgi/")
        over = await request("POST", url, data=chunks(json_of(300 * 1024)), headers=_JSON)
        fits = await request("POST", url, data=chunks(json_of(50 * 1024)), headers=_JSON)

    assert_too_large(over)
    assert (fits.status, int(fits.body)) == (200, len(json_of(50 * 1024)))


async def test_a_content_length_that_understates_the_body_is_still_bounded() -> None:
    received: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            received.append(len(message["body"]))
            if not message["more_body"]:
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    pending = [{"type": "http.request", "body": b"x" * 1000, "more_body": True}] * 20
    pending.append({"type": "http.request", "body": b"", "more_body": False})

    async def receive() -> dict[str, Any]:
        return pending.pop(0)

    middleware: Any = BodyLimitMiddleware(
        app, BodyLimits(json=5000), ErrorResponder(MockRootLogger(), include_stack=False)
    )
    scope = http_scope(
        "/x",
        method="POST",
        headers=[(b"content-type", b"application/json"), (b"content-length", b"10")],
    )
    send = Recorder()
    await middleware(scope, receive, send)

    assert send.status == 413
    assert sum(received) <= 5000  # the handler never saw more than the limit
    assert pending == []  # the rest was read (and dropped) before answering


def test_sizes_read_as_body_parser_reads_them() -> None:
    assert parse_byte_size("100kb", "k") == 102400
    assert parse_byte_size("1.5MB", "k") == 1572864
    assert parse_byte_size(512, "k") == 512
    assert parse_byte_size("2048", "k") == 2048
    with pytest.raises(ConfigError, match=r"backend\.bodyLimit\.json"):
        parse_byte_size("lots", "backend.bodyLimit.json")
    with pytest.raises(ConfigError):
        parse_byte_size(True, "k")


async def test_an_invalid_limit_fails_the_plugin_naming_the_key() -> None:
    config = {"backend": {"bodyLimit": {"plugin": {"p": {"json": "huge"}}}}}
    with pytest.raises(BackendStartupError) as failure:
        async with start_test_backend(
            features=[plugin_with_routes("p", counting_routes([]))], config=config
        ):
            pass
    assert "backend.bodyLimit.plugin.p.json" in str(failure.value)


async def test_an_endless_body_is_not_drained_forever() -> None:
    calls = 0

    async def endless() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        return {"type": "http.request", "body": b"x" * (1 << 20), "more_body": True}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while True:
            await receive()

    middleware: Any = BodyLimitMiddleware(
        app, BodyLimits(json=1000), ErrorResponder(MockRootLogger(), include_stack=False)
    )
    send = Recorder()
    await middleware(
        http_scope("/x", method="POST", headers=[(b"content-type", b"application/json")]),
        endless,
        send,
    )

    assert send.status == 413
    assert 64 <= calls <= 66  # about 64 MB read and dropped, then the answer
