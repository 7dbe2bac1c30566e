"""``backend.server.*``: Node's per-connection limits, on a real socket."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest
from _support.http import plugin_with_routes
from quart import Blueprint, request

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.defaults.root_config import create_config_from_data
from backstage_runtime.defaults.root_http_router._server_limits import (
    ServerLimits,
    read_server_limits,
)
from backstage_runtime.testing import start_test_backend

pytestmark = pytest.mark.anyio

NODE_408 = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n"


def limits_plugin(release: anyio.Event | None = None) -> object:
    routes = Blueprint("limits", __name__)

    @routes.get("/headers")
    async def headers() -> list[str]:
        return [name.lower() for name, _ in request.headers.items()]

    @routes.post("/upload")
    async def upload() -> dict[str, int]:
        return {"received": len(await request.get_data())}

    @routes.get("/slow")
    async def slow() -> dict[str, bool]:
        if release is not None:
            await release.wait()
        return {"done": True}

    return plugin_with_routes("limits", routes, policies=[("/", "unauthenticated")])


@asynccontextmanager
async def serving(
    server: Mapping[str, Any], release: anyio.Event | None = None
) -> AsyncIterator[tuple[str, int]]:
    config = {"backend": {"server": dict(server)}}
    async with start_test_backend(features=[limits_plugin(release)], config=config) as test:
        parts = urlsplit(await test.url())
        assert parts.hostname is not None
        assert parts.port is not None
        yield parts.hostname, parts.port


@asynccontextmanager
async def connection(
    server: Mapping[str, Any], release: anyio.Event | None = None
) -> AsyncIterator[Any]:
    """A connection to a backend serving with ``backend.server: server``."""
    async with serving(server, release) as address, await anyio.connect_tcp(*address) as stream:
        yield stream


async def read_until_closed(stream: Any, timeout: float = 10) -> bytes:
    """Everything the server sends until it closes the connection (fails after ``timeout``)."""
    received = b""
    with anyio.fail_after(timeout):
        while True:
            try:
                received += await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionResetError):
                return received


async def read_response(stream: Any, timeout: float = 10) -> bytes:
    """One response with a Content-Length body, the connection left open."""
    received = b""
    with anyio.fail_after(timeout):
        while b"\r\n\r\n" not in received:
            received += await stream.receive()
        head, _, body = received.partition(b"\r\n\r\n")
        length = int(
            next(
                line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
            ).split(b":")[1]
        )
        while len(body) < length:
            body += await stream.receive()
    return head + b"\r\n\r\n" + body


async def test_a_request_head_slower_than_headers_timeout_gets_nodes_408_and_is_closed() -> None:
    async with connection({"headersTimeout": "300ms"}) as stream:
        await stream.send(b"GET /api/limits/headers HTTP/1.1\r\nHost: x\r\n")
        started = anyio.current_time()
        received = await read_until_closed(stream)
        waited = anyio.current_time() - started

    assert received == NODE_408
    assert 0.25 <= waited < 5


async def test_the_keep_alive_timeout_does_not_cut_a_head_that_is_arriving() -> None:
    # Node's keep-alive wait ends at a request's first byte: from there headersTimeout counts.
    async with connection({"keepAliveTimeout": 100, "headersTimeout": 5000}) as stream:
        await stream.send(b"GET /api/limits/headers HTTP/1.1\r\n")
        await anyio.sleep(0.5)  # the slow client under test, well past the keep-alive 100 ms
        await stream.send(b"Host: x\r\n\r\n")
        response = await read_response(stream)

    assert response.startswith(b"HTTP/1.1 200 OK\r\n")


async def test_a_body_slower_than_request_timeout_gets_408_and_is_closed() -> None:
    async with connection({"requestTimeout": 400, "headersTimeout": 300}) as stream:
        await stream.send(
            b"POST /api/limits/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab"
        )
        received = await read_until_closed(stream)

    assert received == NODE_408


async def test_after_a_response_a_timed_out_request_is_closed_without_a_408() -> None:
    # Node writes its 408 only on a socket that has written nothing yet.
    async with connection({"headersTimeout": "300ms", "keepAliveTimeout": 5000}) as stream:
        await stream.send(b"GET /api/limits/headers HTTP/1.1\r\nHost: x\r\n\r\n")
        first = await read_response(stream)
        await stream.send(b"GET /api/limits/headers HTTP/1.1\r\n")
        rest = await read_until_closed(stream)

    assert first.startswith(b"HTTP/1.1 200 OK")
    assert rest == b""


async def test_an_idle_connection_is_closed_once_keep_alive_timeout_passes_after_a_response() -> (
    None
):
    async with connection({"keepAliveTimeout": 300}) as stream:
        await stream.send(b"GET /api/limits/headers HTTP/1.1\r\nHost: x\r\n\r\n")
        first = await read_response(stream)
        ended = anyio.current_time()
        rest = await read_until_closed(stream)
        waited = anyio.current_time() - ended

    assert first.startswith(b"HTTP/1.1 200 OK")
    assert rest == b""
    assert 0.25 <= waited < 5


async def test_each_request_starts_the_keep_alive_wait_over() -> None:
    # Three pauses of 0.3 s on a 0.5 s keep-alive: more than the timeout in all, never in one.
    async with connection({"keepAliveTimeout": 500}) as stream:
        responses = []
        for _ in range(3):
            await stream.send(b"GET /api/limits/headers HTTP/1.1\r\nHost: x\r\n\r\n")
            responses.append(await read_response(stream))
            await anyio.sleep(0.3)  # the client's pause between its requests, under test
        await stream.send(b"GET /api/limits/headers HTTP/1.1\r\nHost: x\r\n\r\n")
        responses.append(await read_response(stream))

    assert all(response.startswith(b"HTTP/1.1 200 OK") for response in responses)


async def test_stopping_closes_an_idle_keep_alive_connection_at_once() -> None:
    # Hypercorn closes idle connections when the server stops accepting, not after their
    # keep-alive wait (60 s here): the stop does not wait for the client to leave.
    async with serving({"keepAliveTimeout": 60000}) as address:
        stream = await anyio.connect_tcp(*address)
        await stream.send(b"GET /api/limits/headers HTTP/1.1\r\nHost: x\r\n\r\n")
        first = await read_response(stream)
        await stream.send(b"GET /api/limits/headers HTTP/1.1\r\nHost: x\r\n\r\n")
        second = await read_response(stream)  # past the first wait: the later ones are ours
        stopping = anyio.current_time()
    stopped = anyio.current_time() - stopping
    async with stream:
        rest = await read_until_closed(stream)

    assert first.startswith(b"HTTP/1.1 200 OK")
    assert second.startswith(b"HTTP/1.1 200 OK")
    assert rest == b""
    assert stopped < 10


async def test_a_socket_idle_longer_than_timeout_is_closed_without_a_response() -> None:
    release = anyio.Event()
    async with connection({"timeout": "300ms"}, release) as stream:
        await stream.send(b"GET /api/limits/slow HTTP/1.1\r\nHost: x\r\n\r\n")
        received = await read_until_closed(stream)
        release.set()

    assert received == b""


async def test_headers_past_max_headers_count_are_dropped_as_node_drops_them() -> None:
    async with serving({"maxHeadersCount": 3}) as address:
        async with await anyio.connect_tcp(*address) as first:
            await first.send(
                b"GET /api/limits/headers HTTP/1.1\r\nHost: x\r\nX-One: 1\r\nX-Two: 2\r\n"
                b"X-Three: 3\r\nX-Four: 4\r\n\r\n"
            )
            response = await read_response(first)
        async with await anyio.connect_tcp(*address) as second:
            await second.send(
                b"GET /api/limits/headers HTTP/1.1\r\nX-One: 1\r\nX-Two: 2\r\nX-Three: 3\r\n"
                b"Host: x\r\n\r\n"
            )
            hostless = await read_until_closed(second)

    assert response.startswith(b"HTTP/1.1 200 OK")
    seen = json.loads(response.partition(b"\r\n\r\n")[2])
    assert [name for name in seen if name != "remote-addr"] == ["host", "x-one", "x-two"]
    assert hostless.startswith(b"HTTP/1.1 400 Bad Request\r\n")


async def test_the_response_to_the_last_request_per_socket_closes_the_connection() -> None:
    async with connection({"maxRequestsPerSocket": 2}) as stream:
        await stream.send(b"GET /api/limits/headers HTTP/1.1\r\nHost: x\r\n\r\n")
        first = await read_response(stream)
        await stream.send(b"GET /api/limits/headers HTTP/1.1\r\nHost: x\r\n\r\n")
        second = await read_until_closed(stream)

    assert b"\r\nconnection: keep-alive\r\n" in first.lower()
    assert second.startswith(b"HTTP/1.1 200 OK")
    assert b"\r\nconnection: close\r\n" in second.lower()


async def test_a_request_head_over_16_kib_gets_431_as_node() -> None:
    async with serving({}) as address, await anyio.connect_tcp(*address) as stream:
        await stream.send(b"GET /api/limits/headers HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 17000)
        received = await read_until_closed(stream)

    assert received.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")


def test_server_limits_default_to_nodes() -> None:
    assert read_server_limits(create_config_from_data({})) == ServerLimits(
        headers_timeout=60.0,
        request_timeout=300.0,
        socket_timeout=None,
        max_headers_count=2000,
        max_requests_per_socket=None,
    )


def test_server_limits_take_milliseconds_or_durations_and_zero_turns_one_off() -> None:
    config = create_config_from_data(
        {
            "backend": {
                "server": {
                    "headersTimeout": 1500,
                    "requestTimeout": "2m",
                    "timeout": {"seconds": 30},
                    "maxHeadersCount": 0,
                    "maxRequestsPerSocket": 100,
                }
            }
        }
    )
    assert read_server_limits(config) == ServerLimits(
        headers_timeout=1.5,
        request_timeout=120.0,
        socket_timeout=30.0,
        max_headers_count=None,
        max_requests_per_socket=100,
    )


@pytest.mark.parametrize(
    ("server", "key"),
    [
        ({"headersTimeout": "soon"}, "backend.server.headersTimeout"),
        ({"timeout": -5}, "backend.server.timeout"),
        ({"maxHeadersCount": -1}, "backend.server.maxHeadersCount"),
        ({"maxRequestsPerSocket": 2.5}, "backend.server.maxRequestsPerSocket"),
        ({"maxRequestsPerSocket": "ten"}, "backend.server.maxRequestsPerSocket"),
    ],
)
def test_bad_server_limits_name_the_key(server: dict[str, Any], key: str) -> None:
    config = create_config_from_data({"backend": {"server": server}})
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        read_server_limits(config)
