"""A response of known length sent past h11's ``send`` leaves h11 as its ``send`` does."""

from __future__ import annotations

import h11
import pytest

from backstage_runtime.defaults.root_http_router._fast_send import FastSend
from backstage_runtime.defaults.root_http_router._response_head import split_head

GET = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"


def _served(connection: h11.Connection, data: bytes = GET) -> None:
    connection.receive_data(data)
    while connection.next_event() not in (h11.NEED_DATA, h11.PAUSED):
        pass


def test_the_fast_send_leaves_h11_as_its_send_does() -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"2")]
    split = split_head(headers)
    assert split is not None
    fast, slow = h11.Connection(h11.SERVER), h11.Connection(h11.SERVER)
    _served(fast)
    _served(slow)
    sender = FastSend(fast)
    assert sender.start(split[0], 200)
    slow.send(h11.Response(status_code=200, headers=headers))
    assert fast.states == slow.states
    assert sender.data(b"ok") == slow.send(h11.Data(data=b"ok"))
    assert sender.end() == slow.send(h11.EndOfMessage())
    assert fast.states == slow.states == {h11.CLIENT: h11.DONE, h11.SERVER: h11.DONE}
    fast.start_next_cycle()
    assert fast.states == {h11.CLIENT: h11.IDLE, h11.SERVER: h11.IDLE}


def test_the_fast_send_counts_the_body_as_h11_does() -> None:
    split = split_head([(b"content-length", b"2")])
    assert split is not None
    connection = h11.Connection(h11.SERVER)
    _served(connection)
    sender = FastSend(connection)
    assert sender.start(split[0], 200)
    with pytest.raises(h11.LocalProtocolError):
        sender.data(b"too long")
    assert connection.our_state is h11.ERROR


def test_a_body_cut_short_fails_as_in_h11() -> None:
    split = split_head([(b"content-length", b"5")])
    assert split is not None
    connection = h11.Connection(h11.SERVER)
    _served(connection)
    sender = FastSend(connection)
    assert sender.start(split[0], 200)
    sender.data(b"ab")
    with pytest.raises(h11.LocalProtocolError):
        sender.end()
    assert connection.our_state is h11.ERROR


def test_the_fast_send_does_not_apply_while_the_request_body_is_unread() -> None:
    split = split_head([(b"content-length", b"0")])
    assert split is not None
    connection = h11.Connection(h11.SERVER)
    _served(connection, b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n")
    assert not FastSend(connection).start(split[0], 200)
    assert connection.our_state is h11.SEND_RESPONSE


def test_the_fast_send_does_not_apply_to_a_connection_that_closes() -> None:
    split = split_head([(b"content-length", b"0")])
    assert split is not None
    connection = h11.Connection(h11.SERVER)
    _served(connection, b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    assert not FastSend(connection).start(split[0], 200)
    assert connection.our_state is h11.SEND_RESPONSE
