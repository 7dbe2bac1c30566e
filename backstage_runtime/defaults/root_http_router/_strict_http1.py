"""HTTP/1.1 as Node speaks it: framing that cannot be desynchronised, and Node's status line
and keep-alive headers.

h11 is lenient where RFC 9112 lets a server choose: it unfolds obs-fold header lines, accepts a
bare LF as a line end, merges ``Content-Length: 2, 2`` into one value, lets ``Transfer-Encoding``
win over a ``Content-Length`` in the same request (and then serves whatever the two framings
disagree about as the next request on the connection: request smuggling behind a proxy that
picked the other one), parses chunk sizes of any length, and Hypercorn switches a plain socket
to HTTP/2 on an ``Upgrade: h2c`` or the prior-knowledge preface. Node's parser (llhttp) refuses
all of these with ``400`` and closes the connection; so does this module, before h11 parses the
request, for the servers that ask for it (:class:`StrictFramingConfig`).

With :class:`ServerLimits` (``backend.server.*``) the connection also keeps Node's timers (a
request head or body that does not arrive in time gets Node's ``408``; an idle socket is closed,
see :mod:`._connection_guard`) and drops headers past ``maxHeadersCount`` as Node does.

The keep-alive wait between requests is kept by a timer (:mod:`._keep_alive`) rather than by
Hypercorn's tasks, with the same timeout and the same close when the server stops accepting.

Responses carry Node's reason phrase (``HTTP/1.1 200 OK``; h11 sends none) and, on a connection
that stays open, ``Connection: keep-alive`` and ``Keep-Alive: timeout=N`` as Node's server adds.

Two fast paths do the usual request's work in fewer instructions with the same bytes on the
wire: a request head llhttp reads as h11 would is read by llhttp (:mod:`._llhttp_head`, in C;
every other head is h11's), and a response of known length is sent past h11's ``send`` with
h11's state moved by its own functions (:mod:`._fast_send`). Both use h11's private parts, so
both are on only where :func:`._h11_internals.fast_paths_usable` found them; otherwise h11's
own reader and ``send`` serve.

Hypercorn builds its HTTP/1.1 protocol by name inside ``hypercorn.protocol``, so the only seam
is that name: :func:`install` replaces it, once per process, with a subclass that behaves exactly
as Hypercorn's own unless the server's config asks for strict framing. Other Hypercorn servers
in the same process are untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import h11
import hypercorn.protocol
from hypercorn.events import Closed, RawData, Updated
from hypercorn.events import Event as ConnectionEvent
from hypercorn.protocol.events import Body, EndBody, Response
from hypercorn.protocol.events import Event as StreamEvent
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.protocol.ws_stream import WSStream
from hypercorn.typing import H11SendableEvent

from ._connection_guard import REQUEST_TIMEOUT_RESPONSE, ConnectionGuard
from ._h11_internals import fast_paths_usable
from ._keep_alive import IdleConnections, KeepAliveTimer
from ._response_head import normalized_headers, split_head
from ._server_limits import ServerLimits
from ._validated_headers import install as install_http_stream

if TYPE_CHECKING:
    from ._fast_send import FastSend

__all__ = ["NODE_STATUS_CODES", "StrictFramingConfig", "check_request_head", "install"]

#: Longest chunk size accepted, in hex digits: 16 digits already exceed any real body (llhttp
#: refuses a size that overflows 64 bits).
MAX_CHUNK_SIZE_DIGITS = 16

_CONTENT_LENGTH = re.compile(rb"[0-9]+")

#: Node's ``http.STATUS_CODES``: the reason phrase of each status line (Python's ``HTTPStatus``
#: words some differently, e.g. 413, 414, 416, 422).
NODE_STATUS_CODES: dict[int, bytes] = {
    100: b"Continue",
    101: b"Switching Protocols",
    102: b"Processing",
    103: b"Early Hints",
    200: b"OK",
    201: b"Created",
    202: b"Accepted",
    203: b"Non-Authoritative Information",
    204: b"No Content",
    205: b"Reset Content",
    206: b"Partial Content",
    207: b"Multi-Status",
    208: b"Already Reported",
    226: b"IM Used",
    300: b"Multiple Choices",
    301: b"Moved Permanently",
    302: b"Found",
    303: b"See Other",
    304: b"Not Modified",
    305: b"Use Proxy",
    307: b"Temporary Redirect",
    308: b"Permanent Redirect",
    400: b"Bad Request",
    401: b"Unauthorized",
    402: b"Payment Required",
    403: b"Forbidden",
    404: b"Not Found",
    405: b"Method Not Allowed",
    406: b"Not Acceptable",
    407: b"Proxy Authentication Required",
    408: b"Request Timeout",
    409: b"Conflict",
    410: b"Gone",
    411: b"Length Required",
    412: b"Precondition Failed",
    413: b"Payload Too Large",
    414: b"URI Too Long",
    415: b"Unsupported Media Type",
    416: b"Range Not Satisfiable",
    417: b"Expectation Failed",
    418: b"I'm a Teapot",
    421: b"Misdirected Request",
    422: b"Unprocessable Entity",
    423: b"Locked",
    424: b"Failed Dependency",
    425: b"Too Early",
    426: b"Upgrade Required",
    428: b"Precondition Required",
    429: b"Too Many Requests",
    431: b"Request Header Fields Too Large",
    451: b"Unavailable For Legal Reasons",
    500: b"Internal Server Error",
    501: b"Not Implemented",
    502: b"Bad Gateway",
    503: b"Service Unavailable",
    504: b"Gateway Timeout",
    505: b"HTTP Version Not Supported",
    506: b"Variant Also Negotiates",
    507: b"Insufficient Storage",
    508: b"Loop Detected",
    509: b"Bandwidth Limit Exceeded",
    510: b"Not Extended",
    511: b"Network Authentication Required",
}


class StrictFramingConfig:
    """Mixed into a Hypercorn ``Config``: ``strict_http1_framing`` turns the checks on for that
    server, ``allow_h2c`` lets it switch a plain connection to HTTP/2 (off, as in Node).
    """

    strict_http1_framing: bool = True
    allow_h2c: bool = False
    #: Node's per-connection limits; None keeps Hypercorn's own behaviour.
    server_limits: ServerLimits | None = None


def check_request_head(buffer: bytes, *, allow_h2_preface: bool = False) -> None:
    """Refuse a request head (the bytes up to the first empty line) that frames ambiguously.

    Raises :class:`h11.RemoteProtocolError` (status 400) for a bare LF line end, an obs-fold
    continuation line, a ``Content-Length`` that is not one plain number, both
    ``Content-Length`` and ``Transfer-Encoding``, or the HTTP/2 preface (unless
    ``allow_h2_preface``). An incomplete head is checked as far as it goes.
    """
    start = 0
    # RFC 9112 §2.2: a server SHOULD ignore empty lines before the request line.
    while buffer.startswith(b"\r\n", start):
        start += 2
    end = buffer.find(b"\r\n\r\n", start)
    head = buffer[start:] if end < 0 else buffer[start : end + 2]
    # Every LF is the end of a CRLF (counted in C, without a copy of the head).
    if head.count(b"\n") != head.count(b"\r\n"):
        raise h11.RemoteProtocolError("Bare LF in the request head; lines must end with CRLF")
    if head.startswith(b"PRI * HTTP/2.0"):
        if allow_h2_preface:
            return  # Hypercorn switches the connection to HTTP/2
        raise h11.RemoteProtocolError("HTTP/2 is not enabled on this port")
    # Most heads (a GET) have no line the checks below could refuse: no continuation line and
    # no framing header. Looked for in C first (a superset: these bytes anywhere), the line by
    # line reading only runs when they are there; it cost ~20k instructions on every request.
    # (find, not ``in``: bytes' ``in`` first tries its operand as an int and formats the error.)
    lowered = head.lower()
    if (
        head.find(b"\r\n ") < 0
        and head.find(b"\r\n\t") < 0
        and lowered.find(b"content-length") < 0
        and lowered.find(b"transfer-encoding") < 0
    ):
        return
    lines = head.split(b"\r\n")
    complete_lines = lines[1:-1]  # the last piece is either empty or still arriving
    content_lengths: list[bytes] = []
    chunked = False
    for line in complete_lines:
        if line[:1] in (b" ", b"\t"):
            raise h11.RemoteProtocolError("Obsolete line folding in a request header")
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            content_lengths.append(value.strip())
        elif lowered == b"transfer-encoding":
            chunked = True
    if len(content_lengths) > 1 or any(
        not _CONTENT_LENGTH.fullmatch(value) for value in content_lengths
    ):
        raise h11.RemoteProtocolError("Content-Length must be given once, as a single number")
    if content_lengths and chunked:
        raise h11.RemoteProtocolError(
            "A request must not have both Content-Length and Transfer-Encoding"
        )


def _check_chunk_header(buffer: bytes) -> None:
    line_end = buffer.find(b"\n")
    line = buffer if line_end < 0 else buffer[:line_end]
    size = line.split(b";", 1)[0].strip(b"\r \t")
    if len(size) > MAX_CHUNK_SIZE_DIGITS:
        raise h11.RemoteProtocolError("Chunk size too large")


def _check_trailer(buffer: bytes) -> None:
    # The trailer section after the last chunk: CRLF line ends only and no obs-fold, as in the
    # head; h11's line reader would take a bare LF and unfold continuation lines here too.
    if buffer.startswith(b"\n"):
        raise h11.RemoteProtocolError("Bare LF in the chunked trailer")
    if buffer.startswith(b"\r\n"):
        return  # no trailer fields
    end = buffer.find(b"\r\n\r\n")
    section = buffer if end < 0 else buffer[: end + 2]
    if b"\n" in section.replace(b"\r\n", b""):
        raise h11.RemoteProtocolError("Bare LF in the chunked trailer")
    if any(line[:1] in (b" ", b"\t") for line in section.split(b"\r\n")[1:]):
        raise h11.RemoteProtocolError("Obsolete line folding in the chunked trailer")


def _check_chunked_body(reader: object, buffer: bytes) -> None:
    """Check what h11's chunked reader parses next: a size line (after the CRLF that ends the
    previous chunk, which h11 discards in the same call) and, after the last chunk, the trailer.
    """
    if getattr(reader, "_reading_trailer", False):
        _check_trailer(buffer)
        return
    buffer = buffer[len(getattr(reader, "_bytes_to_discard", b"")) :]
    _check_chunk_header(buffer)
    line_end = buffer.find(b"\n")
    if line_end < 0:
        return
    size = buffer[:line_end].split(b";", 1)[0].strip(b"\r \t")
    if size and not size.strip(b"0"):
        _check_trailer(buffer[line_end + 1 :])  # the last chunk: its trailer follows at once


class _StrictConnection(h11.Connection):
    """An h11 server connection that checks each request head, chunk size and trailer before h11
    reads them; a refusal goes through h11's own error path, so Hypercorn answers 400 and closes.
    """

    allow_h2c = False
    guard: ConnectionGuard | None = None
    #: The request heads llhttp reads in place of h11's reader (see ._llhttp_head).
    head_reader: Callable[[Any], h11.Request | None] | None = None

    def next_event(self) -> Any:
        event = super().next_event()
        guard = self.guard
        if guard is not None:
            if type(event) is h11.Request:
                guard.head_complete()
            elif type(event) is h11.EndOfMessage:
                guard.body_complete()
        return event

    def send_with_data_passthrough(self, event: h11.Event) -> list[bytes] | None:
        data = super().send_with_data_passthrough(event)
        # Counted here, where every byte of the connection's HTTP/1.1 is made (h11's send()
        # comes through here), rather than in a coroutine wrapped around each of Hypercorn's
        # sends (six a request).
        if data and self.guard is not None:
            self.guard.wrote(sum(map(len, data)))
        return data

    def start_next_cycle(self) -> None:
        super().start_next_cycle()
        # Here, not after Hypercorn's recycling: a pipelined request may be parsed as soon as
        # the recycling yields, and its clock must already run.
        if self.guard is not None:
            self.guard.next_request(pending=bool(self.trailing_data[0]))

    def _extract_next_receive_event(self) -> Any:
        state = self.their_state
        if state is h11.IDLE:
            head_reader = self.head_reader
            buffer = self._receive_buffer
            # llhttp takes the HTTP/2 preface's head (``PRI * HTTP/2.0``) as a request; h11's
            # path refuses it or hands it to Hypercorn's HTTP/2 (``allow_h2c``).
            if head_reader is not None and buffer and not buffer._data.startswith(b"PRI "):
                request = head_reader(buffer)
                if request is not None:
                    return request
            check_request_head(self.trailing_data[0], allow_h2_preface=self.allow_h2c)
        elif state is h11.SEND_BODY:
            reader = _chunked_reader_between_chunks(self)
            if reader is not None:
                _check_chunked_body(reader, self.trailing_data[0])
        return super()._extract_next_receive_event()


def _chunked_reader_between_chunks(connection: h11.Connection) -> object | None:
    # h11 keeps the body reader private; a chunked reader with no chunk bytes left reads a size
    # line (or the trailer) next.
    reader = getattr(connection, "_reader", None)
    if type(reader).__name__ == "ChunkedReader" and getattr(reader, "_bytes_in_chunk", 1) == 0:
        return reader
    return None


class _StrictH11Protocol(H11Protocol):
    """Hypercorn's HTTP/1.1 protocol; with a :class:`StrictFramingConfig` it parses strictly and
    serves ``Upgrade: h2c`` requests as plain HTTP/1.1 unless ``allow_h2c``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if getattr(self.config, "strict_http1_framing", False):
            connection = _StrictConnection(
                h11.SERVER, max_incomplete_event_size=self.config.h11_max_incomplete_size
            )
            connection.allow_h2c = bool(getattr(self.config, "allow_h2c", False))
            if fast_paths_usable():
                # Imported once the check passed: they name h11's private parts.
                from ._llhttp_head import HeadReader

                connection.head_reader = HeadReader()
            self.connection = connection
        limits: ServerLimits | None = getattr(self.config, "server_limits", None)
        self._limits = limits
        self._guard: ConnectionGuard | None = None
        if limits is not None and isinstance(self.connection, _StrictConnection):
            self._guard = ConnectionGuard(limits, self._expire)
            self.connection.guard = self._guard
        self._node_wire = bool(getattr(self.config, "strict_http1_framing", False))
        self._request_keeps_alive = True
        # The serialised head of a response with a Content-Length, held until its body so that
        # both leave in one write (one send, one packet), as Node sends a complete response.
        self._held_head: bytes | None = None
        # Responses of known length sent past h11's send (see ._fast_send).
        self._fast_send: FastSend | None = None
        if self._node_wire and type(self.connection) is _StrictConnection and fast_paths_usable():
            from ._fast_send import FastSend  # once the check passed: it names h11's privates

            self._fast_send = FastSend(self.connection)
        #: Whether the held head's body goes past h11's send (see ._fast_send).
        self._sending_fast = False
        # Node floors keepAliveTimeout (ms) to whole seconds for the header.
        self._keep_alive_header = b"timeout=%d" % int(self.config.keep_alive_timeout)
        # The keep-alive waits after the first are ours (a timer, not Hypercorn's two tasks a
        # request); the wait for the first request is the server's, started before this
        # protocol existed, and ends with the first ``Updated(idle=False)`` it is sent.
        self._server_send = self.send
        self._keep_alive: KeepAliveTimer | None = None
        self._first_wait_over = False
        if self._node_wire:
            self._keep_alive = KeepAliveTimer(
                asyncio.get_running_loop(), self.config.keep_alive_timeout, self._close_idle
            )
            IdleConnections.of(self.context, self.context.terminated.wait).add(self._keep_alive)
            self.send = self._send_event

    async def handle(self, event: ConnectionEvent) -> None:
        guard = self._guard
        if guard is not None:
            if isinstance(event, RawData):
                if guard.received() and self.stream is None:
                    # Node's keep-alive wait ends at a request's first byte; the head's own
                    # timeout runs from there.
                    await self.send(Updated(idle=False))
            elif isinstance(event, Closed):
                guard.stop()
        if self._keep_alive is not None and isinstance(event, Closed):
            self._keep_alive.stop()
        await super().handle(event)

    async def _send_event(self, event: ConnectionEvent) -> None:
        """The server's ``send``, but for the keep-alive waits after the first one."""
        keep_alive = self._keep_alive
        if type(event) is Updated and keep_alive is not None:
            if self._first_wait_over:
                if event.idle:
                    keep_alive.idle()
                else:
                    keep_alive.busy()
                return
            self._first_wait_over = not event.idle
        await self._server_send(event)

    def _close_idle(self) -> None:
        # As Hypercorn closes a connection whose keep-alive wait ran out (or whose worker
        # stopped); a RuntimeError: the connection's task group has finished already.
        with contextlib.suppress(RuntimeError):
            self.task_group.spawn(self._server_send, Closed())

    def _expire(self, respond: bool) -> None:
        # A RuntimeError: the connection's task group has finished, nothing is left to close.
        with contextlib.suppress(RuntimeError):
            self.task_group.spawn(self._close_for_limit, respond)

    async def _close_for_limit(self, respond: bool) -> None:
        if respond:
            await self.send(RawData(data=REQUEST_TIMEOUT_RESPONSE))
        await self.send(Closed())

    async def _create_stream(self, request: h11.Request) -> None:
        limit = self._limits.max_headers_count if self._limits is not None else None
        if limit is not None and len(request.headers) > limit:
            try:
                # Node keeps the first maxHeadersCount headers and drops the rest silently;
                # framing was already decided on all of them, by h11 as by llhttp.
                request = h11.Request(
                    method=request.method,
                    target=request.target,
                    headers=request.headers.raw_items()[:limit],
                    http_version=request.http_version,
                )
            except h11.LocalProtocolError:  # the Host header was among the dropped ones
                await self._send_error_response(400)
                await self.send(Closed())
                return
        # h11's own rule for whether the connection survives this request (it keeps no
        # keep-alive with HTTP/1.0 peers), read here where the request is at hand.
        tokens = b",".join(v for n, v in request.headers if n == b"connection").lower()
        self._request_keeps_alive = request.http_version >= b"1.1" and not any(
            token.strip() == b"close" for token in tokens.split(b",")
        )
        await super()._create_stream(request)
        if self._guard is not None and isinstance(self.stream, WSStream):
            self._guard.stop()  # a websocket is no request: none of Node's HTTP timers apply

    async def stream_send(self, event: StreamEvent) -> None:
        held = self._held_head
        if held is not None or self._sending_fast:
            self._held_head = None
            if type(event) is Body or type(event) is EndBody:
                # The held head and its body leave in one write.
                data = self._body_bytes(event)
                if held is not None:
                    data = held + data
                if data:
                    await self.send(RawData(data=data))
                return
            if held is not None:
                await self.send(RawData(data=held))
        if not (self._node_wire and isinstance(event, Response) and event.status_code >= 200):
            await super().stream_send(event)
            return
        # Hypercorn's own final-response branch, plus Node's reason phrase and keep-alive
        # headers, so the response is still built (and validated) once.
        headers = list(chain(event.headers, self.config.response_headers("h11")))
        closing = not self._request_keeps_alive
        if self.keep_alive_requests >= self.config.keep_alive_max_requests:
            headers.append((b"connection", b"close"))
            closing = True
        # The app's header names, lowered in C (no generator frame per line): about 16 lines.
        names = set(map(bytes.lower, map(itemgetter(0), event.headers)))
        if not closing and b"connection" not in names:
            headers.append((b"connection", b"keep-alive"))
            headers.append((b"keep-alive", self._keep_alive_header))
        if b"content-length" not in names:
            # A stream (chunked, SSE): its head goes now, the first chunk may be far off.
            await self._send_h11_event(self._response(headers, event.status_code))
            return
        self._held_head = self._head(headers, event.status_code, keeps_alive=not closing)

    def _response(self, headers: list[tuple[bytes, bytes]], status: int) -> h11.Response:
        return h11.Response(
            headers=normalized_headers(headers), status_code=status, reason=_reason(status)
        )

    def _head(
        self, headers: list[tuple[bytes, bytes]], status: int, *, keeps_alive: bool
    ) -> bytes | None:
        """The serialised head of a response with a ``Content-Length`` (None where Hypercorn
        would send nothing). When h11 would send the lines as they are, it is given only the
        ones it reads (see :mod:`._response_head`) and the others are written in their place.
        """
        split = split_head(headers) if keeps_alive else None
        if split is None:
            return self._serialised(self._response(headers, status))
        read, lines = split
        fast_send = self._fast_send
        if fast_send is not None and fast_send.start(read, status):
            self._sending_fast = True
            head = b"HTTP/1.1 %d %s\r\n%s\r\n" % (status, _reason(status), lines)
            guard = self._guard
            if guard is not None:
                guard.wrote(len(head))
            return head
        written = self._serialised(
            h11.Response(headers=read, status_code=status, reason=_reason(status))
        )
        if written is None:
            return None
        # h11's status line, then every line where h11 wrote the ones it read.
        return written[: written.index(b"\r\n") + 2] + lines + b"\r\n"

    def _fast_data(self, data: bytes) -> bytes:
        fast_send = self._fast_send
        assert fast_send is not None
        out = fast_send.data(data)
        guard = self._guard
        if out and guard is not None:
            guard.wrote(len(out))
        return out

    def _fast_end(self) -> bytes:
        fast_send = self._fast_send
        assert fast_send is not None
        return fast_send.end()

    def _body_bytes(self, event: Body | EndBody) -> bytes:
        """What a body event of the response serialises to: past h11's send after a fast
        start (:mod:`._fast_send`), else through h11."""
        if self._sending_fast:
            if type(event) is Body:
                return self._fast_data(event.data)
            self._sending_fast = False
            return self._fast_end()
        h11_event = h11.Data(data=event.data) if type(event) is Body else h11.EndOfMessage()
        return self._serialised(h11_event) or b""

    async def _send_h11_event(self, event: H11SendableEvent) -> None:
        if not self._node_wire:
            await super()._send_h11_event(event)
            return
        # Hypercorn's, but nothing is written for an event of no bytes (the end of a body of
        # known length, on every such response): no write, no drain, no lock of the server's.
        data = self._serialised(event)
        if data:
            await self.send(RawData(data=data))

    def _serialised(self, event: H11SendableEvent) -> bytes | None:
        """``event``'s bytes, or None where Hypercorn's ``_send_h11_event`` would send nothing
        (the peer's side already failed)."""
        try:
            return self.connection.send(event)
        except h11.LocalProtocolError:
            if self.connection.their_state != h11.ERROR:
                raise
            return None

    async def _send_error_response(self, status_code: int) -> None:
        if not self._node_wire:
            await super()._send_error_response(status_code)
            return
        headers = [(b"content-length", b"0"), (b"connection", b"close")]
        await self._send_h11_event(
            h11.Response(
                status_code=status_code,
                headers=[*headers, *self.config.response_headers("h11")],
                reason=NODE_STATUS_CODES.get(status_code, b"unknown"),
            )
        )
        await self._send_h11_event(h11.EndOfMessage())

    async def _check_protocol(self, event: h11.Request) -> None:
        strict = getattr(self.config, "strict_http1_framing", False)
        if strict and not getattr(self.config, "allow_h2c", False):
            return  # the Upgrade header is ignored, as Node's server does without a listener
        await super()._check_protocol(event)


def _reason(status: int) -> bytes:
    return NODE_STATUS_CODES.get(status, b"unknown")


def install() -> None:
    """Make Hypercorn build :class:`_StrictH11Protocol`, and its streams with
    ``_validated_headers.http_stream`` (idempotent)."""
    install_http_stream()
    # The name is not in hypercorn.protocol's __all__, but ProtocolWrapper looks it up there.
    if getattr(hypercorn.protocol, "H11Protocol", None) is not _StrictH11Protocol:
        setattr(hypercorn.protocol, "H11Protocol", _StrictH11Protocol)  # noqa: B010
