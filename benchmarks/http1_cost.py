"""The HTTP/1.1 parsing and state work of one served hello request, alone, three ways.

``python benchmarks/http1_cost.py [N]`` runs N request/response cycles (default 20000) on one
connection object for each variant and prints microseconds a cycle:

- ``h11``: the strict connection on h11's own path (h11 reads the head, h11 sends the status
  line and the lines it reads, see ``_response_head``), as served when the fast paths are off;
- ``fast``: as served (heads read by llhttp, see ``_llhttp_head``; the response sent past h11's
  send, see ``_fast_send``; h11's state machine kept);
- ``llhttp``: the floor of a protocol of our own (llhttp's callbacks, a flag, the head joined).

``python benchmarks/http1_cost.py N VARIANT`` runs one variant only: under callgrind,
(instructions at N) - (instructions at 0) over N is the instructions of a cycle, e.g.
``valgrind --tool=callgrind python benchmarks/http1_cost.py 1000 fast``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import h11
import httptools

from backstage_runtime.defaults.root_http_router._fast_send import FastSend
from backstage_runtime.defaults.root_http_router._llhttp_head import HeadReader
from backstage_runtime.defaults.root_http_router._response_head import split_head
from backstage_runtime.defaults.root_http_router._strict_http1 import _StrictConnection

REQUEST = (
    b"GET /api/hello/hello HTTP/1.1\r\nHost: 127.0.0.1:40000\r\nAccept-Encoding: identity\r\n\r\n"
)
BODY = b'{"hello":"world"}'
#: About the lines of the served hello response (helmet's, CORS', the keep-alive pair).
HEADERS = [
    (b"content-security-policy", b"default-src 'self';base-uri 'self'"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"origin-agent-cluster", b"?1"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=15552000; includeSubDomains"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-dns-prefetch-control", b"off"),
    (b"x-download-options", b"noopen"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"x-permitted-cross-domain-policies", b"none"),
    (b"x-xss-protection", b"0"),
    (b"vary", b"Origin"),
    (b"content-type", b"application/json; charset=utf-8"),
    (b"content-length", b"%d" % len(BODY)),
    (b"date", b"Tue, 08 Dec 2026 04:40:00 GMT"),
    (b"connection", b"keep-alive"),
    (b"keep-alive", b"timeout=5"),
]


def cycle_h11(connection: _StrictConnection) -> bytes:
    """One request and response as ``_StrictH11Protocol`` drives h11 today."""
    connection.receive_data(REQUEST)
    request = connection.next_event()
    assert type(request) is h11.Request
    assert type(connection.next_event()) is h11.EndOfMessage
    assert connection.next_event() is h11.NEED_DATA
    split = split_head(HEADERS)
    assert split is not None
    read, lines = split
    written = connection.send(h11.Response(headers=read, status_code=200, reason=b"OK"))
    assert written is not None
    head = written[: written.index(b"\r\n") + 2] + lines + b"\r\n"
    out = head + (connection.send(h11.Data(data=BODY)) or b"")
    connection.send(h11.EndOfMessage())
    connection.start_next_cycle()
    return out


def cycle_fast(connection: _StrictConnection) -> bytes:
    """The same with the llhttp head reader and the fast send."""
    connection.receive_data(REQUEST)
    request = connection.next_event()
    assert type(request) is h11.Request
    assert type(connection.next_event()) is h11.EndOfMessage
    assert connection.next_event() is h11.NEED_DATA
    split = split_head(HEADERS)
    assert split is not None
    read, lines = split
    sender = FastSend(connection)
    assert sender.start(read, 200)
    head = b"HTTP/1.1 %d %s\r\n%s\r\n" % (200, b"OK", lines)
    out = head + sender.data(BODY)
    sender.end()
    connection.start_next_cycle()
    return out


class _OwnProtocol:
    """The floor: llhttp's callbacks into a head, a flag for state, the response joined."""

    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.headers: list[tuple[bytes, bytes]] = []
        self.target = b""
        self.complete = False

    def on_url(self, url: bytes) -> None:
        self.target = url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value.rstrip(b" \t")))

    def on_message_complete(self) -> None:
        self.complete = True

    def cycle(self) -> bytes:
        self.headers = []
        self.complete = False
        self.parser.feed_data(REQUEST)
        assert self.complete
        method = self.parser.get_method()
        assert method == b"GET"
        split = split_head(HEADERS)
        assert split is not None
        return b"HTTP/1.1 %d %s\r\n%s\r\n%s" % (200, b"OK", split[1], BODY)


def runner(variant: str) -> Callable[[], bytes]:
    """One cycle of ``variant`` (``h11``, ``fast`` or ``llhttp``), checked to answer alike."""
    if variant == "llhttp":
        return _OwnProtocol().cycle
    connection = _StrictConnection(h11.SERVER)
    run = cycle_h11
    if variant == "fast":
        connection.head_reader = HeadReader()
        run = cycle_fast
    elif variant != "h11":
        raise SystemExit(f"unknown variant {variant!r} (h11, fast, llhttp)")
    first = run(connection)

    def cycle() -> bytes:
        out = run(connection)
        assert out == first
        return out

    return cycle


def main() -> None:
    """Run the variants (or the one named) N times each and print the cost of a cycle."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    for variant in sys.argv[2:] or ["h11", "fast", "llhttp"]:
        cycle = runner(variant)
        started = time.perf_counter()
        for _ in range(count):
            cycle()
        elapsed = time.perf_counter() - started
        print(f"{variant:7} {elapsed / max(count, 1) * 1e6:8.2f} us a cycle ({count} cycles)")


if __name__ == "__main__":
    main()
