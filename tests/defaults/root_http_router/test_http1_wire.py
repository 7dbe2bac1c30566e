"""HTTP/1.1 on a real socket as Node speaks it: ambiguous framing gets 400 and a closed
connection, status lines carry Node's reason phrase, keep-alive is announced.
"""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import anyio
import h11
import pytest
from _support.http import echo_plugin

from backstage_runtime.defaults.root_http_router._strict_http1 import check_request_head
from backstage_runtime.testing import start_test_backend

pytestmark = pytest.mark.anyio

LIVENESS = b"/.backstage/health/v1/liveness"


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, int]]:
    async with start_test_backend(features=[echo_plugin()]) as test:
        parts = urlsplit(await test.url())
        assert parts.hostname is not None
        assert parts.port is not None
        yield parts.hostname, parts.port


def exchange(address: tuple[str, int], data: bytes) -> tuple[list[int], bool]:
    """Send ``data`` on a new connection; the statuses answered and whether the server closed
    the connection (rather than keeping it open for more requests).
    """
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(data)
        received = b""
        closed = False
        sock.settimeout(1.0)
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    closed = True
                    break
                received += chunk
        except TimeoutError:
            pass  # still open: keep-alive
    statuses = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3})", received)]
    return statuses, closed


async def talk(address: tuple[str, int], data: bytes) -> tuple[list[int], bool]:
    return await anyio.to_thread.run_sync(exchange, address, data)


async def test_content_length_with_transfer_encoding_is_refused_and_nothing_behind_it_served(
    server: tuple[str, int],
) -> None:
    smuggled = (
        b"POST /api/echo/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        b"GET " + LIVENESS + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert await talk(server, smuggled) == ([400], True)


@pytest.mark.parametrize(
    "head",
    [
        b"POST /api/echo/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\nab",
        b"POST /api/echo/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab",
        b"POST /api/echo/echo HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\nab",
        b"GET " + LIVENESS + b" HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n",
        b"GET " + LIVENESS + b" HTTP/1.1\nHost: x\n\n",
        b"GET " + LIVENESS + b" HTTP/1.1\r\nHost: x\n\r\n",
        b"POST /api/echo/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"FFFFFFFFFFFFFFFFFFFF\r\nab\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        b"POST /api/echo/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n1" + b"0" * 16 + b"3\r\nab\r\n",
        b"POST /api/echo/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\nGET " + LIVENESS + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /api/echo/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\nX-T: a\n\r\nGET " + LIVENESS + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /api/echo/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\nX-T: a\r\n b\r\n\r\nGET " + LIVENESS + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
    ids=[
        "list-content-length",
        "two-content-lengths",
        "signed-content-length",
        "obs-fold",
        "bare-lf",
        "bare-lf-in-one-line",
        "oversized-chunk",
        "h2-preface",
        "oversized-second-chunk",
        "trailer-ends-with-bare-lf",
        "trailer-line-bare-lf",
        "trailer-obs-fold",
    ],
)
async def test_ambiguous_framing_gets_400_and_a_closed_connection(
    server: tuple[str, int], head: bytes
) -> None:
    assert await talk(server, head) == ([400], True)


async def test_h2c_upgrade_is_answered_in_http1(server: tuple[str, int]) -> None:
    upgrade = (
        b"GET " + LIVENESS + b" HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
        b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
    )
    assert await talk(server, upgrade) == ([200], False)


async def test_well_framed_pipelined_and_chunked_requests_still_work(
    server: tuple[str, int],
) -> None:
    pipelined = (
        b"GET " + LIVENESS + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /api/echo/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n"
        b"POST /api/echo/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab"
    )
    assert await talk(server, pipelined) == ([200, 200, 200], False)


def test_the_head_check_reads_only_up_to_the_first_empty_line() -> None:
    # A body may hold anything, bare LFs included.
    check_request_head(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\na\nb")
    # A head still arriving is checked as far as it goes.
    check_request_head(b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: aaaa")
    with pytest.raises(h11.RemoteProtocolError, match="Bare LF"):
        check_request_head(b"GET / HTTP/1.1\r\nHost: x\nX")
    check_request_head(b"PRI * HTTP/2.0\r\n\r\n", allow_h2_preface=True)


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (b"POST / HTTP/1.1\r\nHost: x\r\nCONTENT-LENGTH: 1, 2\r\n\r\n", "Content-Length"),
        (b"POST / HTTP/1.1\r\nHost: x\r\ncontent-length : +1\r\n\r\n", "Content-Length"),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-ENCODING: chunked\r\nContent-Length: 1\r\n\r\n",
            "both",
        ),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tb\r\n\r\n", "folding"),
    ],
)
def test_the_head_check_finds_framing_lines_in_any_case_and_spacing(
    head: bytes, message: str
) -> None:
    with pytest.raises(h11.RemoteProtocolError, match=message):
        check_request_head(head)


def test_a_head_that_only_mentions_framing_names_elsewhere_passes() -> None:
    # The quick look for "content-length" anywhere sends this head to the line by line check,
    # which finds no framing header in it.
    check_request_head(
        b"GET /content-length?transfer-encoding HTTP/1.1\r\nHost: x\r\nX-A: content-length\r\n\r\n"
    )


def response_head(address: tuple[str, int], data: bytes) -> list[bytes]:
    """The status line and header lines of the first response to ``data``."""
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return received.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


async def test_status_lines_carry_nodes_reason_phrase(server: tuple[str, int]) -> None:
    ok = await anyio.to_thread.run_sync(
        response_head, server, b"GET " + LIVENESS + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    missing = await anyio.to_thread.run_sync(
        response_head, server, b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert ok[0] == b"HTTP/1.1 200 OK"
    assert missing[0] == b"HTTP/1.1 404 Not Found"


async def test_keep_alive_is_announced_as_node_does_unless_the_connection_closes(
    server: tuple[str, int],
) -> None:
    kept = await anyio.to_thread.run_sync(
        response_head, server, b"GET " + LIVENESS + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    closing = await anyio.to_thread.run_sync(
        response_head,
        server,
        b"GET " + LIVENESS + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    http10 = await anyio.to_thread.run_sync(
        response_head, server, b"GET " + LIVENESS + b" HTTP/1.0\r\n\r\n"
    )
    assert [line.lower() for line in kept[-2:]] == [
        b"connection: keep-alive",
        b"keep-alive: timeout=5",
    ]
    assert b"connection: close" in [line.lower() for line in closing]
    assert not any(line.lower().startswith(b"keep-alive") for line in closing)
    assert b"connection: close" in [line.lower() for line in http10]


def test_reason_phrases_are_nodes_where_python_words_them_differently() -> None:
    from backstage_runtime.defaults.root_http_router._strict_http1 import NODE_STATUS_CODES

    assert NODE_STATUS_CODES[413] == b"Payload Too Large"
    assert NODE_STATUS_CODES[416] == b"Range Not Satisfiable"
    assert NODE_STATUS_CODES[422] == b"Unprocessable Entity"


RESPONSE_LINES = [
    (b"X-Frame-Options", b"SAMEORIGIN"),
    (b"content-type", b"application/json; charset=utf-8"),
    (b"content-length", b"17, 17"),
    (b"vary", b"Accept-Encoding"),
]


def h11_normalized(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes, bytes]]:
    from h11._headers import normalize_and_validate

    return list(normalize_and_validate(headers)._full_items)


def test_remembered_header_lines_normalise_as_h11_does_on_every_response() -> None:
    from backstage_runtime.defaults.root_http_router._response_head import normalized_headers

    first = normalized_headers(list(RESPONSE_LINES))._full_items
    again = normalized_headers(list(RESPONSE_LINES))._full_items
    assert first == again == h11_normalized(RESPONSE_LINES)
    # Raw casing kept for the wire, the lower-cased name and the merged length for h11.
    assert again[0] == (b"X-Frame-Options", b"x-frame-options", b"SAMEORIGIN")
    assert again[2] == (b"content-length", b"content-length", b"17")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([(b"x-ok", b"1"), (b"bad name", b"1")], "Illegal header name"),
        ([(b"x-ok", b"1"), (b"x-bad", b"a\r\nb")], "Illegal header value"),
        ([(b"content-length", b"1"), (b"content-length", b"2")], "conflicting Content-Length"),
        ([(b"transfer-encoding", b"chunked")] * 2, "multiple Transfer-Encoding"),
        ([(b"content-length", b"1, 2")], "conflicting Content-Length"),
    ],
)
def test_remembered_header_lines_still_refuse_what_h11_refuses(
    lines: list[tuple[bytes, bytes]], message: str
) -> None:
    from backstage_runtime.defaults.root_http_router._response_head import normalized_headers

    # Each line seen alone first (and remembered, when valid): the checks across lines and
    # the refusals still happen on the whole list.
    for line in lines:
        with contextlib.suppress(h11.LocalProtocolError):
            normalized_headers([line])
    with pytest.raises(h11.LocalProtocolError, match=message):
        normalized_headers(list(lines))


def test_repeated_identical_content_length_is_merged_as_h11_merges_it() -> None:
    from backstage_runtime.defaults.root_http_router._response_head import normalized_headers

    lines = [(b"content-length", b"5"), (b"x-a", b"b"), (b"content-length", b"5")]
    assert normalized_headers(lines)._full_items == h11_normalized(lines)
    assert len(normalized_headers(lines)) == 2


def test_lines_that_are_not_pairs_of_bytes_go_to_h11_unremembered() -> None:
    from backstage_runtime.defaults.root_http_router import _response_head

    lines: list[object] = [[b"x-list", b"1"], ("x-str", "2")]
    result = _response_head.normalized_headers(lines)  # type: ignore[arg-type]
    assert result._full_items == [(b"x-list", b"x-list", b"1"), (b"x-str", b"x-str", b"2")]
    known: dict[object, object] = dict(_response_head._known_header_lines)
    assert ("x-str", "2") not in known


def test_the_memory_of_header_lines_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from backstage_runtime.defaults.root_http_router import _response_head

    monkeypatch.setattr(_response_head, "_known_header_lines", {})
    for number in range(_response_head.MAX_KNOWN_HEADER_LINES * 3):
        _response_head.normalized_headers([(b"etag", b'W/"%d"' % number)])
        assert len(_response_head._known_header_lines) <= _response_head.MAX_KNOWN_HEADER_LINES


def test_the_date_line_is_made_once_a_second_as_hypercorn_makes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    import hypercorn.config

    from backstage_runtime.defaults.root_http_router._server import _ServerConfig
    from backstage_runtime.defaults.root_http_router._server_limits import ServerLimits

    config = _ServerConfig(None, limits=ServerLimits())
    config.include_server_header = False
    clock = [1_700_000_000.25]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    monkeypatch.setattr(hypercorn.config, "time", lambda: clock[0])
    first = config.response_headers("h11")
    assert first == [(b"date", b"Tue, 14 Nov 2023 22:13:20 GMT")]
    first.append((b"x-mine", b"1"))  # each caller gets a list of its own
    clock[0] = 1_700_000_000.75
    assert config.response_headers("h11") == [(b"date", b"Tue, 14 Nov 2023 22:13:20 GMT")]
    clock[0] = 1_700_000_001.0
    assert config.response_headers("h11") == [(b"date", b"Tue, 14 Nov 2023 22:13:21 GMT")]
