"""The outermost piece: every request gets a RequestInfo, filled as its response goes out."""

from __future__ import annotations

import os
import time

from ...http_toolkit import (
    ASGIApp,
    Message,
    Receive,
    RequestInfo,
    Scope,
    Send,
    set_request_info,
)

__all__ = ["RecordingSend", "RequestTracking", "request_id_for"]

_REQUEST_ID_HEADER = b"x-request-id"
_MAX_REQUEST_ID_LENGTH = 200


class RecordingSend:
    """The last ``send`` before the server: notes in ``info`` what the log line reports, as
    Node's logging middleware reads the headers that compression left.

    Node logs a compressed response's length as 0 (compression removed the header); we log the
    compressed bytes that went out, and the same for streams.
    """

    __slots__ = ("_counting", "_info", "_send")

    def __init__(self, send: Send, info: RequestInfo) -> None:
        self._send = send
        self._info = info
        self._counting = False

    async def __call__(self, message: Message) -> None:
        """Note the status and length, then hand ``message`` to the server."""
        kind = message["type"]
        if kind == "http.response.start":
            info = self._info
            info.status = message["status"]
            # From the end: the handler's headers follow helmet's and CORS's.
            for name, value in reversed(message.get("headers", ())):
                if name.lower() == b"content-length":
                    info.content_length = int(value)
                    break
            else:
                info.content_length = 0
                self._counting = True
        elif self._counting and kind == "http.response.body":
            self._info.content_length = (self._info.content_length or 0) + len(
                message.get("body", b"")
            )
        await self._send(message)


def request_id_for(scope: Scope) -> str:
    """The caller's ``X-Request-Id`` when it is a sane token, else a new random id."""
    for key, value in scope["headers"]:
        if key == _REQUEST_ID_HEADER:
            given = str(value.decode("latin-1"))
            break
    else:
        given = None
    if given and len(given) <= _MAX_REQUEST_ID_LENGTH and given.isprintable() and " " not in given:
        return given
    return os.urandom(16).hex()


class RequestTracking:
    """Gives every HTTP request its :class:`RequestInfo` (request id, start time) and records
    the response's status and length in it as they reach the server; the pieces inside read it
    (``status`` set means the response has started and an error can no longer replace it).
    """

    __slots__ = ("app",)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Attach the info, then serve the request through a recording ``send``."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        info = RequestInfo(request_id_for(scope), time.perf_counter())
        set_request_info(scope, info)
        await self.app(scope, receive, RecordingSend(send, info))
