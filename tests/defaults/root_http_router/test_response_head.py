"""A response head written from remembered lines, with h11 given only the lines it reads, is
byte for byte what h11 writes from all of them, and leaves h11 in the same state.
"""

from __future__ import annotations

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backstage_runtime.defaults.root_http_router import _response_head
from backstage_runtime.defaults.root_http_router._response_head import split_head

Lines = list[tuple[bytes, bytes]]

USUAL = [
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"content-type", b"application/json; charset=utf-8"),
    (b"content-length", b"17"),
    (b"vary", b"Accept-Encoding"),
    (b"etag", b'W/"11-abc"'),
    (b"date", b"Tue, 08 Dec 2026 01:41:04 GMT"),
    (b"connection", b"keep-alive"),
    (b"keep-alive", b"timeout=5"),
]


def served(method: bytes) -> h11.Connection:
    """A server connection that has read one keep-alive request of ``method``."""
    connection = h11.Connection(h11.SERVER)
    connection.receive_data(method + b" / HTTP/1.1\r\nHost: x\r\n\r\n")
    while type(connection.next_event()) is not h11.EndOfMessage:
        pass
    return connection


def written_by_h11(lines: Lines, status: int, method: bytes) -> tuple[bytes, h11.Connection]:
    connection = served(method)
    written = connection.send(h11.Response(headers=lines, status_code=status, reason=b"OK"))
    assert written is not None
    return written, connection


def written_split(lines: Lines, status: int, method: bytes) -> tuple[bytes, h11.Connection]:
    found = split_head(lines)
    assert found is not None
    again = split_head(list(lines))  # an equal list: remembered
    assert again is not None
    assert (list(again[0]), again[1]) == (list(found[0]), found[1])
    read, wire = again
    connection = served(method)
    written = connection.send(h11.Response(headers=read, status_code=status, reason=b"OK"))
    assert written is not None
    return written[: written.index(b"\r\n") + 2] + wire + b"\r\n", connection


def rest_of_response(connection: h11.Connection, lines: Lines, status: int, method: bytes) -> bytes:
    """The body (as many bytes as the head announces, none where there is none) and its end,
    as the connection writes them, and its state after.
    """
    length = next(int(value) for name, value in lines if name.lower() == b"content-length")
    carries_body = method != b"HEAD" and status not in (204, 304)
    data = connection.send(h11.Data(data=b"a" * length)) if carries_body and length else b""
    end = connection.send(h11.EndOfMessage())
    return (data or b"") + (end or b"") + repr(connection.states).encode()


def test_the_usual_head_is_split_and_written_as_h11_writes_it() -> None:
    expected, by_h11 = written_by_h11(USUAL, 200, b"GET")
    head, split = written_split(USUAL, 200, b"GET")
    assert head == expected
    assert rest_of_response(split, USUAL, 200, b"GET") == rest_of_response(
        by_h11, USUAL, 200, b"GET"
    )
    found = split_head(USUAL)
    assert found is not None
    assert [name for name, _ in found[0]] == [b"content-length", b"connection"]


@pytest.mark.parametrize(
    "lines",
    [
        [(b"content-type", b"text/plain")],  # no length: a stream, h11 frames it itself
        [(b"content-length", b"1"), (b"content-length", b"1")],  # h11 merges these
        [(b"content-length", b"1"), (b"transfer-encoding", b"chunked")],  # h11 drops a length
        [(b"content-length", b"1"), (b"Host", b"x")],  # h11 writes Host first
        [(b"content-length", b"1"), (b"bad name", b"1")],  # refused: h11 raises its error
        [(b"content-length", b"1"), [b"x-list", b"1"]],  # not a tuple
    ],
)
def test_heads_h11_may_change_go_to_h11_whole(lines: Lines) -> None:
    assert split_head(lines) is None


_NAMES = st.sampled_from(
    [
        b"Content-Type",
        b"vary",
        b"X-Frame-Options",
        b"etag",
        b"keep-alive",
        b"Connection",
        b"connection",
        b"x-a",
        b"Set-Cookie",
    ]
)
_VALUES = st.binary(min_size=0, max_size=12).map(
    lambda raw: bytes(b"abc ,;=/-\"'"[byte % 11] for byte in raw).strip()
)
_CONNECTION_VALUES = st.sampled_from([b"keep-alive", b"close", b"Upgrade", b"keep-alive, close"])
_LINE = st.one_of(
    st.tuples(_NAMES, _VALUES),
    st.tuples(st.sampled_from([b"connection", b"Connection"]), _CONNECTION_VALUES),
)


@settings(max_examples=300, deadline=None)
@given(
    before=st.lists(_LINE, max_size=8),
    after=st.lists(_LINE, max_size=8),
    length=st.integers(min_value=0, max_value=40),
    length_name=st.sampled_from([b"content-length", b"Content-Length"]),
    status=st.sampled_from([200, 201, 204, 304, 404, 500]),
    method=st.sampled_from([b"GET", b"HEAD", b"POST"]),
)
def test_a_split_head_is_what_h11_writes_and_leaves_h11_as_it_would(
    before: Lines, after: Lines, length: int, length_name: bytes, status: int, method: bytes
) -> None:
    lines = [*before, (length_name, b"%d" % length), *after]
    expected, by_h11 = written_by_h11(lines, status, method)
    head, split = written_split(lines, status, method)
    assert head == expected
    assert rest_of_response(split, lines, status, method) == rest_of_response(
        by_h11, lines, status, method
    )


def test_the_memory_of_heads_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_response_head, "_known_heads", {})
    for number in range(_response_head.MAX_KNOWN_HEADS * 3):
        head = split_head([(b"content-length", b"1"), (b"etag", b'W/"%d"' % number)])
        assert head is not None
        assert head[1] == b'content-length: 1\r\netag: W/"%d"\r\n' % number
        assert len(_response_head._known_heads) <= _response_head.MAX_KNOWN_HEADS
