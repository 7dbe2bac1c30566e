"""Express's ``res.send`` validators: a weak ETag on every complete response, and 304 when the
request's ``If-None-Match`` / ``If-Modified-Since`` says the client's copy is current.

Express 4.22 (``lib/response.js#send``, ``req.fresh``) with ``etag`` 1.8.1 (weak: ``W/"<length
in hex>-<base64 SHA-1, 27 characters>"``) and ``fresh`` 0.5.2. Express tags what ``res.send`` /
``res.json`` write, whatever the method or status; what a handler streams gets no tag. In ASGI
terms a response is complete when its first body message holds exactly ``Content-Length`` bytes
(Quart's buffered responses, ``send_json``); anything else is passed on untouched.
"""

from __future__ import annotations

import base64
import hashlib

import anyio.to_thread

from ...http_toolkit import ASGIApp, Message, Receive, Scope, Send
from ._fresh import fresh

__all__ = [
    "MAX_REMEMBERED_BODY_BYTES",
    "MAX_REMEMBERED_ETAGS",
    "ETagMiddleware",
    "ETagSend",
    "weak_etag",
]

#: Hashing larger bodies moves to a worker thread (hashlib releases the GIL) so that the event
#: loop keeps serving; below this the thread hop costs more than it saves.
_OFFLOAD_BYTES = 256 * 1024

# 1xx, 204 and 304 carry no body (Express strips it from 204 and 304 after tagging; tagging
# an entity that is never sent is left out).
_NO_BODY = frozenset((204, 304))

# Express removes these from a 304; the ETag and every other header stay.
_NOT_IN_304 = frozenset((b"content-type", b"content-length", b"transfer-encoding"))


#: Bodies up to this many bytes have their tag remembered (:func:`weak_etag`).
MAX_REMEMBERED_BODY_BYTES = 1024
#: Most tags remembered; past it the memory starts over, so varied bodies cannot grow it.
MAX_REMEMBERED_ETAGS = 256

_remembered: dict[bytes, bytes] = {}


def weak_etag(body: bytes) -> bytes:
    """jshttp/etag's weak tag of ``body``: ``W/"9-fINXV39R1PCo05OqGqr7KIY9lCE"`` for beep boop.

    The tag of a small body is remembered: a route answers the same few bytes again and again
    (a health check, ``{"ok":true}``), and a SHA-1 object costs ~9k instructions to make and
    finish, where looking the body up costs a tenth of that.
    """
    small = type(body) is bytes and len(body) <= MAX_REMEMBERED_BODY_BYTES
    if small:
        known = _remembered.get(body)
        if known is not None:
            return known
    digest = base64.b64encode(hashlib.sha1(body).digest())[:27]  # a fingerprint, not security
    tag = b'W/"%x-%s"' % (len(body), digest)
    if small:
        if len(_remembered) >= MAX_REMEMBERED_ETAGS:
            _remembered.clear()
        _remembered[body] = tag
    return tag


_CONDITIONAL = (b"if-none-match", b"if-modified-since", b"cache-control")


def _conditional_headers(scope: Scope) -> dict[bytes, str] | None:
    """The request's validator headers, or None for an unconditional request (the usual case,
    so one pass over the headers decides it).
    """
    found: dict[bytes, list[bytes]] = {}
    for key, value in scope["headers"]:
        if key in _CONDITIONAL:
            found.setdefault(key, []).append(value)
    if b"if-none-match" not in found and b"if-modified-since" not in found:
        return None
    # Node joins repeated headers with ", ", but keeps the first If-Modified-Since.
    return {
        key: (values[0] if key == b"if-modified-since" else b", ".join(values)).decode("latin-1")
        for key, values in found.items()
    }


class ETagSend:
    """An ASGI ``send`` adding Express's ETag and answering 304 for a fresh conditional request.

    The start of a response with a ``Content-Length`` is held until its first body message shows
    whether the body is complete; other responses pass straight through. A complete body ends
    the response (``res.send`` is ``res.end``): what the app sends after it (Quart's closing
    empty message) is dropped, which spares every layer below and the server a message.
    """

    __slots__ = ("_ended", "_etag", "_held", "_last_modified", "_length", "_scope", "_send")

    def __init__(self, scope: Scope, send: Send) -> None:
        self._scope = scope
        self._send = send
        self._held: Message | None = None
        self._length = 0
        self._etag: bytes | None = None
        self._last_modified: bytes | None = None
        self._ended = False

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.body":
            if self._ended:
                return
            start = self._held
            if start is not None:
                self._held = None
                body: bytes = message.get("body", b"")
                if len(body) == self._length and not start.get("trailers", False):
                    etag = self._etag
                    if etag is None and len(body) >= _OFFLOAD_BYTES:
                        etag = await anyio.to_thread.run_sync(weak_etag, body)
                    start, message = self._tagged(start, body, etag or weak_etag(body))
                    self._ended = True
                # else not the whole body at once (a stream of known length, or a HEAD response
                # whose body was left out before it came here): nothing to tag.
                await self._send(start)
        elif kind == "http.response.start" and self._holds(message):
            self._held = message
            return
        elif kind == "http.response.start":
            self._held = None  # replaced by a response that needs no holding
        await self._send(message)

    def _holds(self, start: Message) -> bool:
        # A start while one is held replaces it: the application failed before its body and
        # an error response takes its place, so nothing of the first one may stay.
        self._etag = self._last_modified = None
        status: int = start["status"]
        if status < 200 or status in _NO_BODY:
            return False
        length = None
        for name, value in start.get("headers", ()):
            lower = name.lower()
            if lower == b"content-length":
                length = length or value
            elif lower == b"etag":
                self._etag = self._etag or value
            elif lower == b"last-modified":
                self._last_modified = self._last_modified or value
        if length is None:
            return False  # no length: a stream, as ``res.write`` sends
        try:
            self._length = int(length)
        except ValueError:
            return False
        return True

    def _tagged(self, start: Message, body: bytes, etag: bytes) -> tuple[Message, Message]:
        headers = list(start.get("headers", ()))
        if self._etag is None:
            headers.append((b"etag", etag))
        status: int = start["status"]
        method: str = self._scope["method"]
        if method == "GET" or method == "HEAD":
            if 200 <= status < 300 and self._is_fresh(etag):
                status = 304
                headers = [(n, v) for n, v in headers if n.lower() not in _NOT_IN_304]
                body = b""
            elif method == "HEAD":
                body = b""  # Express hashes the body that HEAD does not get
        start = {**start, "status": status, "headers": headers}
        return start, {"type": "http.response.body", "body": body, "more_body": False}

    def _is_fresh(self, etag: bytes) -> bool:
        conditional = _conditional_headers(self._scope)
        if conditional is None:
            return False
        last_modified = self._last_modified
        return fresh(
            if_none_match=conditional.get(b"if-none-match"),
            if_modified_since=conditional.get(b"if-modified-since"),
            cache_control=conditional.get(b"cache-control"),
            etag=etag.decode("latin-1"),
            last_modified=last_modified.decode("latin-1") if last_modified else None,
        )


class ETagMiddleware:
    """Express's ``res.send`` validators: every HTTP response goes out through an
    :class:`ETagSend`. Innermost of the response pieces, it sees what the application sends.
    """

    __slots__ = ("app",)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request through a tagging ``send``."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, ETagSend(scope, send))
