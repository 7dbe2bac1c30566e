"""The llhttp head reader gives h11 the same events, verdicts and state as h11's own reader:
named cases, the framings Node's parser and h11 disagree on, and 3000 mutated requests.
"""

from __future__ import annotations

import random

import h11
import pytest

from backstage_runtime.defaults.root_http_router._llhttp_head import HeadReader
from backstage_runtime.defaults.root_http_router._strict_http1 import _StrictConnection

GET = b"GET /a?b HTTP/1.1\r\nHost: h\r\nX-Y: 1 \t\r\n\r\n"


def connections() -> tuple[_StrictConnection, _StrictConnection]:
    """A strict h11 connection and the same with heads read by llhttp."""
    prototype = _StrictConnection(h11.SERVER)
    prototype.head_reader = HeadReader()
    return _StrictConnection(h11.SERVER), prototype


def events(connection: h11.Connection, data: bytes) -> list[object]:
    connection.receive_data(data)
    found: list[object] = []
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA or event is h11.PAUSED:
            return found
        found.append(event)


def test_the_head_reader_gives_h11_the_same_events() -> None:
    strict, prototype = connections()
    assert events(prototype, GET) == events(strict, GET)
    request = events(_with_reader(), GET)[0]
    assert isinstance(request, h11.Request)
    assert request.headers.raw_items() == [(b"Host", b"h"), (b"X-Y", b"1")]
    assert (request.method, request.target, request.http_version) == (b"GET", b"/a?b", b"1.1")


def _with_reader() -> _StrictConnection:
    connection = _StrictConnection(h11.SERVER)
    connection.head_reader = HeadReader()
    return connection


def test_a_body_after_the_head_is_read_by_h11_and_the_next_head_parses() -> None:
    post = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab"
    connection = _with_reader()
    found = events(connection, post)
    assert [type(e) for e in found] == [h11.Request, h11.Data, h11.EndOfMessage]
    connection.send(h11.Response(status_code=200, headers=[(b"content-length", b"0")]))
    connection.send(h11.EndOfMessage())
    connection.start_next_cycle()
    assert [type(e) for e in events(connection, GET)] == [h11.Request, h11.EndOfMessage]


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GET / HTTP/1.1\nHost: h\n\n", 400),  # bare LF, never a complete CRLF head
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: 1\r\n 2\r\n\r\n", 400),  # obs-fold
        (b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),  # no Host
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400),  # h11 takes no empty line first
        (b"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    ],
)
def test_refused_heads_get_h11s_status(data: bytes, status: int) -> None:
    for connection in connections():
        with pytest.raises(h11.RemoteProtocolError) as refused:
            events(connection, data)
        assert refused.value.error_status_hint == status


def _verdict(connection: h11.Connection, data: bytes) -> object:
    try:
        return events(connection, data)
    except h11.RemoteProtocolError as error:
        return ("refused", error.error_status_hint)


@pytest.mark.parametrize(
    "data",
    [
        GET,
        b"FOO / HTTP/1.1\r\nHost: h\r\n\r\n",  # llhttp refuses unknown methods; h11 serves them
        b"get / HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET / HTTP/1.2\r\nHost: h\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fb\r\n\r\n",
        b"GET / HTTP/1.0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n1\r\na\r\n0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 2\r\n\r\nab",
        b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\n",  # incomplete
        GET + GET,  # pipelined
        b"GET /\r\nHost: h\r\n\r\n",  # HTTP/0.9's line: llhttp takes it, h11 refuses it
        b"GET /  HTTP/1.1\r\nHost: h\r\n\r\n",  # two spaces: the same
        b"GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
    ],
)
def test_every_verdict_is_h11s(data: bytes) -> None:
    strict, prototype = connections()
    assert _verdict(prototype, data) == _verdict(strict, data)


_SEEDS = [
    GET,
    b"POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
    b"PUT /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
]


def test_mutated_requests_get_h11s_verdicts() -> None:
    """A differential check: random edits of a few requests (the bytes a parser tends to
    disagree on: spaces, CR, LF, colons, commas, DEL, obs-text) read alike both ways.
    """
    chooser = random.Random(19)
    special = [0x20, 0x09, 0x0D, 0x0A, ord(":"), ord(","), 0x7F, 0x80, ord("/"), ord("%")]
    for _ in range(3000):
        data = bytearray(chooser.choice(_SEEDS))
        for _ in range(chooser.randint(1, 3)):
            at = chooser.randrange(len(data))
            byte = chooser.choice([chooser.randrange(256), *special])
            edit = chooser.random()
            if edit < 0.4:
                data[at] = byte
            elif edit < 0.7:
                data.insert(at, byte)
            else:
                del data[at]
        strict, prototype = connections()
        assert _verdict(prototype, bytes(data)) == _verdict(strict, bytes(data)), bytes(data)


# The framings Node's parser (llhttp) and h11 tend to disagree on.
PROBE_GET = b"GET / HTTP/1.1\r\nHost: a\r\n"

#: name, request bytes
PROBES: list[tuple[str, bytes]] = [
    ("plain GET", PROBE_GET + b"\r\n"),
    ("bare LF line end", b"GET / HTTP/1.1\nHost: a\n\n"),
    ("bare LF in one header", PROBE_GET + b"X: 1\n\r\n"),
    ("bare CR in a header value", PROBE_GET + b"X: 1\r2\r\n\r\n"),
    ("obs-fold", PROBE_GET + b"X: 1\r\n 2\r\n\r\n"),
    ("CL + TE", PROBE_GET + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("duplicate CL, same", PROBE_GET + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\nab"),
    ("duplicate CL, differ", PROBE_GET + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\nabc"),
    ("CL list '2, 2'", PROBE_GET + b"Content-Length: 2, 2\r\n\r\nab"),
    ("CL '+2'", PROBE_GET + b"Content-Length: +2\r\n\r\nab"),
    ("CL overflow (21 digits)", PROBE_GET + b"Content-Length: 100000000000000000000\r\n\r\n"),
    (
        "chunk size 17 hex, 64-bit overflow",
        PROBE_GET + b"Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
    ),
    (
        "chunk size 17 hex, leading zeros",
        PROBE_GET + b"Transfer-Encoding: chunked\r\n\r\n00000000000000001\r\na\r\n0\r\n\r\n",
    ),
    ("chunk ext", PROBE_GET + b"Transfer-Encoding: chunked\r\n\r\n1;a=b\r\na\r\n0\r\n\r\n"),
    (
        "chunk LF only after data",
        PROBE_GET + b"Transfer-Encoding: chunked\r\n\r\n1\r\na\n0\r\n\r\n",
    ),
    ("chunk size line bare LF", PROBE_GET + b"Transfer-Encoding: chunked\r\n\r\n1\na\r\n0\r\n\r\n"),
    ("trailer bare LF", PROBE_GET + b"Transfer-Encoding: chunked\r\n\r\n0\r\nX: 1\n\r\n"),
    ("trailer obs-fold", PROBE_GET + b"Transfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n 2\r\n\r\n"),
    ("TE gzip (not chunked last)", PROBE_GET + b"Transfer-Encoding: gzip\r\n\r\n"),
    ("TE 'chunked, gzip'", PROBE_GET + b"Transfer-Encoding: chunked, gzip\r\n\r\n"),
    (
        "TE twice",
        PROBE_GET + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ),
    ("h2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
    ("HTTP/2.0 GET", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n"),
    ("HTTP/1.2", b"GET / HTTP/1.2\r\nHost: a\r\n\r\n"),
    ("HTTP/1.0 no Host", b"GET / HTTP/1.0\r\n\r\n"),
    ("HTTP/1.1 no Host", b"GET / HTTP/1.1\r\n\r\n"),
    ("two Host", PROBE_GET + b"Host: b\r\n\r\n"),
    ("space before colon", PROBE_GET + b"X : 1\r\n\r\n"),
    ("empty header name", PROBE_GET + b": 1\r\n\r\n"),
    ("NUL in value", PROBE_GET + b"X: a\x00b\r\n\r\n"),
    ("obs-text in value", PROBE_GET + b"X: caf\xe9\r\n\r\n"),
    ("trailing OWS in value", PROBE_GET + b"X: 1 \t\r\n\r\n"),
    ("DEL in value", PROBE_GET + b"X: a\x7fb\r\n\r\n"),
    ("obs-text in target", b"GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("TE 'Chunked'", PROBE_GET + b"Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n"),
    ("leading CRLF", b"\r\n" + PROBE_GET + b"\r\n"),
    ("lowercase method", b"get / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("unknown method FOO", b"FOO / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("space in target", b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("Upgrade: h2c", PROBE_GET + b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\r\n"),
    (
        "Upgrade: websocket",
        PROBE_GET
        + b"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n",
    ),
    ("Expect 100-continue", PROBE_GET + b"Content-Length: 1\r\nExpect: 100-continue\r\n\r\na"),
    ("pipelined, two GETs", PROBE_GET + b"\r\n" + PROBE_GET + b"\r\n"),
    (
        "data after Connection: close",
        PROBE_GET + b"Connection: close\r\n\r\n" + PROBE_GET + b"\r\n",
    ),
]


def _served_cycles(connection: h11.Connection, data: bytes) -> object:
    """``data`` read to the end, each request answered (``Content-Length: 0``) and the next
    cycle started, as the server does: the requests served, then how the connection ended.
    """
    connection.receive_data(data)
    found: list[object] = []
    try:
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return found, event
            found.append(event)
            if type(event) is h11.EndOfMessage and connection.our_state is h11.SEND_RESPONSE:
                connection.send(h11.Response(status_code=200, headers=[("content-length", "0")]))
                connection.send(h11.EndOfMessage())
                if connection.states != {h11.CLIENT: h11.DONE, h11.SERVER: h11.DONE}:
                    return found, connection.states
                connection.start_next_cycle()
    except h11.RemoteProtocolError as error:
        return found, ("refused", error.error_status_hint)


@pytest.mark.parametrize(("name", "data"), PROBES, ids=[name for name, _ in PROBES])
def test_framings_node_and_h11_disagree_on_are_served_as_h11_serves_them(
    name: str, data: bytes
) -> None:
    strict, prototype = connections()
    assert _served_cycles(prototype, data) == _served_cycles(strict, data), name


def test_the_usual_head_is_read_by_llhttp_not_left_to_h11() -> None:
    """The differential tests above would pass with a reader that reads nothing."""
    from h11._receivebuffer import ReceiveBuffer

    buffer = ReceiveBuffer()
    buffer += GET + b"rest"
    request = HeadReader()(buffer)
    assert isinstance(request, h11.Request)
    assert request.headers.raw_items() == [(b"Host", b"h"), (b"X-Y", b"1")]
    assert bytes(buffer) == b"rest"
