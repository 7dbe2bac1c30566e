"""A response whose length is known leaves in one write, its head joined to its body, as Node
sends a complete response; a stream's head goes out at once, before its first chunk.
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.from_thread
import pytest

from backstage_runtime.defaults.root_http_router._server import HttpServer
from backstage_runtime.defaults.root_logger import BackstageLogger

pytestmark = pytest.mark.anyio

REQUEST = b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n"


class HeldBody:
    """An ASGI app that sends its response head, then waits for :attr:`proceed` before the body."""

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        self.headers = headers
        self.head_sent = threading.Event()  # seen by the client's thread
        self.proceed = anyio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return  # no lifespan support: Hypercorn goes on without
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        self.head_sent.set()
        await self.proceed.wait()
        await send({"type": "http.response.body", "body": b"hello"})


@asynccontextmanager
async def serving(app: HeldBody) -> AsyncIterator[tuple[str, int]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.setblocking(False)
    server = HttpServer(
        app,  # type: ignore[arg-type]
        sock,
        tls=None,
        logger=BackstageLogger(stream=io.StringIO(), format="json"),
        keep_alive_timeout=5,
    )
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve)
        yield server.address
        group.cancel_scope.cancel()


def first_bytes_then_rest(
    address: tuple[str, int], app: HeldBody, stream: bool
) -> tuple[bytes, bytes]:
    """What the socket holds once the app has sent its head, then the rest of the response."""
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(REQUEST)
        assert app.head_sent.wait(5)
        sock.setblocking(False)  # a socket with a timeout would wait on MSG_DONTWAIT too
        try:
            early = sock.recv(65536)
        except BlockingIOError:
            early = b""
        sock.settimeout(5)
        if stream and not early:
            early = sock.recv(65536)  # a stream's head: it must come before the body
        anyio.from_thread.run_sync(app.proceed.set)
        rest = b""
        while b"hello" not in early + rest:
            chunk = sock.recv(65536)
            assert chunk, early + rest
            rest += chunk
    return early, rest


async def test_the_head_of_a_response_with_a_length_waits_for_its_body() -> None:
    app = HeldBody([(b"content-length", b"5"), (b"content-type", b"text/plain")])
    async with serving(app) as address:
        early, rest = await anyio.to_thread.run_sync(first_bytes_then_rest, address, app, False)

    # On loopback a write is readable as soon as it is made: nothing was written yet.
    assert early == b""
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n")
    assert rest.endswith(b"\r\n\r\nhello")


async def test_the_head_of_a_stream_goes_out_before_its_first_chunk() -> None:
    app = HeldBody([(b"content-type", b"text/event-stream")])
    async with serving(app) as address:
        early, rest = await anyio.to_thread.run_sync(first_bytes_then_rest, address, app, True)

    assert early.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"transfer-encoding: chunked" in early.lower()
    assert b"hello" not in early
    assert b"hello" in rest


class Answer:
    """An ASGI app answering every request at once with a body of known length."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return  # no lifespan support: Hypercorn goes on without
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]}
        )
        await send({"type": "http.response.body", "body": b"hello"})


async def test_each_response_with_a_length_is_one_write_and_nothing_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    writes: list[bytes] = []
    write = asyncio.StreamWriter.write

    def counted(self: asyncio.StreamWriter, data: bytes) -> None:
        writes.append(bytes(data))
        write(self, data)

    monkeypatch.setattr(asyncio.StreamWriter, "write", counted)

    def three_requests(address: tuple[str, int]) -> bytes:
        received = b""
        with socket.create_connection(address, timeout=5) as sock:
            for _ in range(3):
                sock.sendall(REQUEST)
                while not received.endswith(b"hello"):
                    received += sock.recv(65536)
                received += b"|"
        return received

    async with serving(Answer()) as address:  # type: ignore[arg-type]
        received = await anyio.to_thread.run_sync(three_requests, address)

    assert received.count(b"HTTP/1.1 200 OK\r\n") == 3
    # No empty write for the end of a body whose length was announced.
    assert len(writes) == 3
    assert all(data.startswith(b"HTTP/1.1 200 OK\r\n") for data in writes)
