"""Spike (issue 19): what httptools' llhttp refuses by default, next to the strict h11
connection (``_StrictConnection``: ``check_request_head`` and the chunk checks before h11) and
plain h11. Prints one row per probe: ``ok`` (the request parsed to its end), ``REFUSED`` (and
why), or ``incomplete`` (the parser waits for more bytes).
"""

from __future__ import annotations

import h11
import httptools

from backstage_runtime.defaults.root_http_router._llhttp_head import HeadReader
from backstage_runtime.defaults.root_http_router._strict_http1 import _StrictConnection

GET = b"GET / HTTP/1.1\r\nHost: a\r\n"

#: name, request bytes
PROBES: list[tuple[str, bytes]] = [
    ("plain GET", GET + b"\r\n"),
    ("bare LF line end", b"GET / HTTP/1.1\nHost: a\n\n"),
    ("bare LF in one header", GET + b"X: 1\n\r\n"),
    ("bare CR in a header value", GET + b"X: 1\r2\r\n\r\n"),
    ("obs-fold", GET + b"X: 1\r\n 2\r\n\r\n"),
    ("CL + TE", GET + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("duplicate CL, same", GET + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\nab"),
    ("duplicate CL, differ", GET + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\nabc"),
    ("CL list '2, 2'", GET + b"Content-Length: 2, 2\r\n\r\nab"),
    ("CL '+2'", GET + b"Content-Length: +2\r\n\r\nab"),
    ("CL overflow (21 digits)", GET + b"Content-Length: 100000000000000000000\r\n\r\n"),
    (
        "chunk size 17 hex, 64-bit overflow",
        GET + b"Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
    ),
    (
        "chunk size 17 hex, leading zeros",
        GET + b"Transfer-Encoding: chunked\r\n\r\n00000000000000001\r\na\r\n0\r\n\r\n",
    ),
    ("chunk ext", GET + b"Transfer-Encoding: chunked\r\n\r\n1;a=b\r\na\r\n0\r\n\r\n"),
    ("chunk LF only after data", GET + b"Transfer-Encoding: chunked\r\n\r\n1\r\na\n0\r\n\r\n"),
    ("chunk size line bare LF", GET + b"Transfer-Encoding: chunked\r\n\r\n1\na\r\n0\r\n\r\n"),
    ("trailer bare LF", GET + b"Transfer-Encoding: chunked\r\n\r\n0\r\nX: 1\n\r\n"),
    ("trailer obs-fold", GET + b"Transfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n 2\r\n\r\n"),
    ("TE gzip (not chunked last)", GET + b"Transfer-Encoding: gzip\r\n\r\n"),
    ("TE 'chunked, gzip'", GET + b"Transfer-Encoding: chunked, gzip\r\n\r\n"),
    (
        "TE twice",
        GET + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ),
    ("h2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
    ("HTTP/2.0 GET", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n"),
    ("HTTP/1.2", b"GET / HTTP/1.2\r\nHost: a\r\n\r\n"),
    ("HTTP/1.0 no Host", b"GET / HTTP/1.0\r\n\r\n"),
    ("HTTP/1.1 no Host", b"GET / HTTP/1.1\r\n\r\n"),
    ("two Host", GET + b"Host: b\r\n\r\n"),
    ("space before colon", GET + b"X : 1\r\n\r\n"),
    ("empty header name", GET + b": 1\r\n\r\n"),
    ("NUL in value", GET + b"X: a\x00b\r\n\r\n"),
    ("obs-text in value", GET + b"X: caf\xe9\r\n\r\n"),
    ("trailing OWS in value", GET + b"X: 1 \t\r\n\r\n"),
    ("DEL in value", GET + b"X: a\x7fb\r\n\r\n"),
    ("obs-text in target", b"GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("TE 'Chunked'", GET + b"Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n"),
    ("leading CRLF", b"\r\n" + GET + b"\r\n"),
    ("lowercase method", b"get / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("unknown method FOO", b"FOO / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("space in target", b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("Upgrade: h2c", GET + b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\r\n"),
    (
        "Upgrade: websocket",
        GET + b"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n",
    ),
    ("Expect 100-continue", GET + b"Content-Length: 1\r\nExpect: 100-continue\r\n\r\na"),
    ("pipelined, two GETs", GET + b"\r\n" + GET + b"\r\n"),
    ("data after Connection: close", GET + b"Connection: close\r\n\r\n" + GET + b"\r\n"),
]


class _Collect:
    """httptools callbacks counting whole messages."""

    def __init__(self) -> None:
        self.complete = 0
        self.headers: list[tuple[bytes, bytes]] = []

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_message_complete(self) -> None:
        self.complete += 1


def llhttp(data: bytes) -> str:
    """httptools' HttpRequestParser with its default (strict) settings."""
    collect = _Collect()
    parser = httptools.HttpRequestParser(collect)
    try:
        parser.feed_data(data)
    except httptools.HttpParserUpgrade as upgrade:
        return f"upgrade at {upgrade.args[0]} (messages {collect.complete})"
    except httptools.HttpParserError as error:
        return f"REFUSED {type(error).__name__}: {error}"
    if collect.complete:
        return f"ok x{collect.complete}"
    return "incomplete"


def h11_result(connection: h11.Connection, data: bytes) -> str:
    """Feed ``data`` to an h11 server connection and read events to a request's end."""
    connection.receive_data(data)
    complete = 0
    try:
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                return f"ok x{complete}" if complete else "incomplete"
            if event is h11.PAUSED:
                return f"ok x{complete} (paused)"
            if type(event) is h11.EndOfMessage:
                complete += 1
                if connection.our_state is h11.SEND_RESPONSE:
                    connection.send(
                        h11.Response(status_code=200, headers=[("content-length", "0")])
                    )
                    connection.send(h11.EndOfMessage())
                    if connection.our_state is h11.DONE and connection.their_state is h11.DONE:
                        connection.start_next_cycle()
                    else:
                        return f"ok x{complete} (then closed)"
    except h11.RemoteProtocolError as error:
        return f"REFUSED {error.error_status_hint} {error}"


def _prototype() -> _StrictConnection:
    connection = _StrictConnection(h11.SERVER)
    connection.head_reader = HeadReader()
    return connection


def main() -> None:
    """Print the table."""
    width = max(len(name) for name, _ in PROBES)
    print(
        f"{'probe':{width}} | llhttp (httptools default) | strict h11 | plain h11"
        " | strict h11, heads by llhttp (the spike's prototype)"
    )
    for name, data in PROBES:
        strict = h11_result(_StrictConnection(h11.SERVER), data)
        plain = h11_result(h11.Connection(h11.SERVER), data)
        proto = h11_result(_prototype(), data)
        # What reaches the wire: served or not, and the status (h11's messages are not sent).
        mark = "" if proto.split()[:2] == strict.split()[:2] else "  <-- differs on the wire"
        print(f"{name:{width}} | {llhttp(data)} | {strict} | {plain} | {proto}{mark}")


if __name__ == "__main__":
    main()
