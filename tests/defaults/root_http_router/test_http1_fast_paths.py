"""The HTTP/1.1 fast paths (heads read by llhttp, responses sent past h11's send) on a real
Hypercorn server put the same bytes on the wire as h11's own path, and are left off, with the
same bytes, when h11 lacks a private part they use.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import anyio
import h11
import h11._connection
import pytest
from _support.http import echo_plugin

from backstage_runtime.defaults.root_http_router import _strict_http1
from backstage_runtime.defaults.root_http_router._h11_internals import fast_paths_usable
from backstage_runtime.defaults.root_http_router._llhttp_head import HeadReader
from backstage_runtime.testing import start_test_backend

pytestmark = pytest.mark.anyio

LIVENESS = b"/.backstage/health/v1/liveness"
HOST = b"Host: x\r\n"
CLOSE = b"GET " + LIVENESS + b" HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"

#: Exchanges on one connection each; every one ends with the server closing it.
EXCHANGES: dict[str, list[bytes]] = {
    "pipelined": [
        b"GET " + LIVENESS + b" HTTP/1.1\r\n" + HOST + b"\r\n"
        b"POST /api/echo/echo HTTP/1.1\r\n" + HOST + b"Content-Length: 3\r\n\r\nabc"
        b"GET /nope HTTP/1.1\r\n" + HOST + b"\r\n" + CLOSE
    ],
    "chunked body": [
        b"POST /api/echo/echo HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nTrailer: 1\r\n\r\n" + CLOSE
    ],
    "expect 100-continue": [
        b"POST /api/echo/echo HTTP/1.1\r\n"
        + HOST
        + b"Content-Length: 4\r\nExpect: 100-continue\r\n\r\n",
        b"abcd" + CLOSE,
    ],
    "HTTP/1.0": [b"GET " + LIVENESS + b" HTTP/1.0\r\n\r\n"],
    "HTTP/1.0 keep-alive": [
        b"GET " + LIVENESS + b" HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + CLOSE
    ],
    "connection close": [CLOSE],
    "refused framing": [
        b"POST /api/echo/echo HTTP/1.1\r\n"
        + HOST
        + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab"
    ],
    "llhttp refuses, h11 serves": [b"FOO / HTTP/1.1\r\n" + HOST + b"\r\n" + CLOSE],
}


def _talk(address: tuple[str, int], parts: list[bytes]) -> bytes:
    """Send each part (after the first, once something was answered); all that came back
    until the server closed the connection.
    """
    received = b""
    with socket.create_connection(address, timeout=5) as sock:
        for index, part in enumerate(parts):
            if index:
                received += sock.recv(65536)  # e.g. the 100 Continue, before the body
            sock.sendall(part)
        while chunk := sock.recv(65536):
            received += chunk
    # The Date line is the only one that may change between two servers.
    return re.sub(rb"\r\ndate: [^\r]*", b"\r\ndate: -", received, flags=re.IGNORECASE)


async def _served(exchanges: dict[str, list[bytes]]) -> dict[str, bytes]:
    async with start_test_backend(features=[echo_plugin()]) as test:
        parts = urlsplit(await test.url())
        assert parts.hostname is not None
        assert parts.port is not None
        address = (parts.hostname, parts.port)
        return {
            name: await anyio.to_thread.run_sync(_talk, address, data)
            for name, data in exchanges.items()
        }


@pytest.fixture
def fresh_check() -> Iterator[None]:
    """The once-per-process check made again in the test, and again after it."""
    fast_paths_usable.cache_clear()
    yield
    fast_paths_usable.cache_clear()


@pytest.fixture
def heads_read() -> Iterator[list[int]]:
    """How many heads llhttp read (so that the fast path is known to have run)."""
    read = [0]
    reader = HeadReader.__call__

    def counting(self: HeadReader, buffer: object) -> h11.Request | None:
        found = reader(self, buffer)  # type: ignore[arg-type]
        read[0] += found is not None
        return found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(HeadReader, "__call__", counting)
        yield read


async def test_the_fast_paths_put_h11s_bytes_on_the_wire(
    monkeypatch: pytest.MonkeyPatch, heads_read: list[int]
) -> None:
    fast = await _served(EXCHANGES)
    assert heads_read[0] >= 8
    monkeypatch.setattr(_strict_http1, "fast_paths_usable", lambda: False)
    heads_read[0] = 0
    slow = await _served(EXCHANGES)
    assert heads_read[0] == 0
    assert fast == slow
    # What the exchanges are meant to show, so that two equally wrong servers fail too.
    assert fast["pipelined"].count(b"HTTP/1.1 200 OK\r\n") == 3
    assert b"HTTP/1.1 404 Not Found\r\n" in fast["pipelined"]
    assert b'{"received":5}' in fast["chunked body"]
    assert fast["expect 100-continue"].startswith(b"HTTP/1.1 100 ")
    assert b'{"received":4}' in fast["expect 100-continue"]
    assert b"connection: close" in fast["HTTP/1.0"].lower()
    assert fast["refused framing"].startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert fast["llhttp refuses, h11 serves"].count(b"HTTP/1.1 ") == 2


@pytest.mark.usefixtures("fresh_check")
def test_the_check_passes_with_this_h11() -> None:
    assert fast_paths_usable()


@pytest.mark.usefixtures("fresh_check")
@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("h11._connection", "_keep_alive"),
        ("h11._headers", "Headers"),
        ("h11._connection.Connection", "_respond_to_state_changes"),
        ("h11._connection.Connection", "_process_error"),
    ],
)
def test_the_check_fails_without_a_private_part(
    monkeypatch: pytest.MonkeyPatch, module: str, name: str
) -> None:
    monkeypatch.delattr(f"{module}.{name}")
    assert not fast_paths_usable()


@pytest.mark.usefixtures("fresh_check")
def test_the_check_fails_when_the_receive_buffer_changed_shape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from h11._receivebuffer import ReceiveBuffer

    original = ReceiveBuffer.__init__

    def renamed(self: ReceiveBuffer) -> None:
        original(self)
        self._search_from = self.__dict__.pop("_next_line_search")  # type: ignore[attr-defined]

    monkeypatch.setattr(ReceiveBuffer, "__init__", renamed)
    assert not fast_paths_usable()


@pytest.mark.usefixtures("fresh_check")
async def test_without_a_private_part_h11s_path_serves_the_same_bytes(
    heads_read: list[int],
) -> None:
    fast = await _served(EXCHANGES)
    assert heads_read[0] > 0
    fast_paths_usable.cache_clear()
    # h11 itself needs the name: it is away while the check runs, and back (the check's
    # answer kept) for the server.
    with pytest.MonkeyPatch.context() as patch:
        patch.delattr(h11._connection, "_keep_alive")
        assert not fast_paths_usable()
    heads_read[0] = 0
    fallen_back = await _served(EXCHANGES)
    assert heads_read[0] == 0
    assert fallen_back == fast


@pytest.mark.usefixtures("fresh_check")
def test_the_check_fails_when_a_head_reads_otherwise_than_in_h11(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def upper_cased(self: HeadReader, name: bytes, value: bytes) -> None:
        original(self, name.upper(), value)

    original = HeadReader.on_header
    monkeypatch.setattr(HeadReader, "on_header", upper_cased)
    assert not fast_paths_usable()
