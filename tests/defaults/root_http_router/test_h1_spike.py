"""SPIKE (issue 19): the llhttp head reader and the fast send keep h11's events, verdicts and
state.
"""

from __future__ import annotations

import h11
import pytest

from backstage_runtime.defaults.root_http_router._fast_send import (
    end_message,
    start_body,
    write_data,
)
from backstage_runtime.defaults.root_http_router._response_head import split_head
from backstage_runtime.defaults.root_http_router._strict_http1 import _StrictConnection

httptools = pytest.importorskip("httptools")

from backstage_runtime.defaults.root_http_router._llhttp_head import HeadReader  # noqa: E402

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


def _served(connection: h11.Connection) -> None:
    events(connection, GET)


def test_the_fast_send_leaves_h11_as_its_send_does() -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"2")]
    split = split_head(headers)
    assert split is not None
    fast, slow = h11.Connection(h11.SERVER), h11.Connection(h11.SERVER)
    _served(fast)
    _served(slow)
    assert start_body(fast, split[0], 200)
    slow.send(h11.Response(status_code=200, headers=headers))
    assert write_data(fast, b"ok") == slow.send(h11.Data(data=b"ok"))
    assert end_message(fast) == slow.send(h11.EndOfMessage())
    assert fast.states == slow.states == {h11.CLIENT: h11.DONE, h11.SERVER: h11.DONE}
    fast.start_next_cycle()
    assert fast.states == {h11.CLIENT: h11.IDLE, h11.SERVER: h11.IDLE}


def test_the_fast_send_counts_the_body_as_h11_does() -> None:
    split = split_head([(b"content-length", b"2")])
    assert split is not None
    connection = h11.Connection(h11.SERVER)
    _served(connection)
    assert start_body(connection, split[0], 200)
    with pytest.raises(h11.LocalProtocolError):
        write_data(connection, b"too long")
    assert connection.our_state is h11.ERROR


def test_the_fast_send_does_not_apply_while_the_request_body_is_unread() -> None:
    split = split_head([(b"content-length", b"0")])
    assert split is not None
    connection = h11.Connection(h11.SERVER)
    events(connection, b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n")
    assert not start_body(connection, split[0], 200)
    assert connection.our_state is h11.SEND_RESPONSE


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
    import random

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
