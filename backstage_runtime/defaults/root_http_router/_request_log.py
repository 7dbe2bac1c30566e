"""One log entry per finished request, in the format of Backstage's request logging middleware."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ...api import LoggerService
from ...http_toolkit import Message, Scope, Send

__all__ = ["RecordingSend", "RequestInfo", "log_request", "request_id_for"]

_REQUEST_ID_HEADER = b"x-request-id"
_MAX_REQUEST_ID_LENGTH = 200


@dataclass(slots=True)
class RequestInfo:
    """What the layers of one request learn about it; kept in the scope under ``"backstage"``.

    ``plugin_id`` is set when a plugin router takes the request; ``status`` when the response
    starts; ``content_length`` is its ``Content-Length`` or, without one (a stream, a compressed
    body), the body bytes sent so far.
    """

    request_id: str
    started: float
    plugin_id: str | None = None
    status: int | None = None
    content_length: int | None = None


class RecordingSend:
    """The last ``send`` before the server: notes in ``info`` what the log line reports, as
    Node's logging middleware reads the headers that compression left.

    Node logs a compressed response's length as 0 (compression removed the header); we log the
    compressed bytes that went out, and the same for streams.
    """

    __slots__ = ("_counting", "_info", "_send", "started")

    def __init__(self, send: Send, info: RequestInfo) -> None:
        self._send = send
        self._info = info
        self._counting = False
        #: Whether the response has begun to reach the server (an error can no longer replace it).
        self.started = False

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.started = True
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


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def request_id_for(scope: Scope) -> str:
    """The caller's ``X-Request-Id`` when it is a sane token, else a new random id."""
    given = _header(scope, _REQUEST_ID_HEADER)
    if given and len(given) <= _MAX_REQUEST_ID_LENGTH and given.isprintable() and " " not in given:
        return given
    return os.urandom(16).hex()


def _iso_utc(moment: datetime) -> str:
    # JavaScript's Date.toISOString(): milliseconds and a literal Z.
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def log_request(logger: LoggerService, scope: Scope, info: RequestInfo, duration: float) -> None:
    """Write ``[<date>] "<METHOD> <url> HTTP/<v>" <status> <length> "<referrer>" "<agent>"`` with
    Backstage's fields (``type: incomingRequest``, ``date``, ``method``, ``url``, ``status``,
    ``httpVersion``, ``userAgent``, ``contentLength``, ``referrer``) plus ``durationMs``,
    ``requestId`` and ``plugin``.
    """
    date = _iso_utc(datetime.now(UTC))
    method: str = scope["method"]
    path = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
    query: bytes = scope.get("query_string", b"")
    url = f"{path}?{query.decode('latin-1')}" if query else path
    http_version: str = scope.get("http_version", "1.1")
    if "." not in http_version:
        http_version += ".0"
    status = info.status if info.status is not None else 0
    user_agent = referrer = None
    for name, value in scope["headers"]:
        if name == b"user-agent":
            user_agent = value.decode("latin-1")
        elif name in (b"referer", b"referrer") and referrer is None:
            referrer = value.decode("latin-1")
    length = info.content_length
    fields: dict[str, Any] = {
        "type": "incomingRequest",
        "date": date,
        "method": method,
        "url": url,
        "status": status,
        "httpVersion": http_version,
    }
    if user_agent is not None:
        fields["userAgent"] = user_agent
    if length is not None:
        fields["contentLength"] = length
    if referrer is not None:
        fields["referrer"] = referrer
    fields["durationMs"] = round(duration * 1000, 3)
    fields["requestId"] = info.request_id
    if info.plugin_id is not None:
        fields["plugin"] = info.plugin_id
    logger.info(
        f'[{date}] "{method} {url} HTTP/{http_version}" {status} {length or 0} '
        f'"{referrer or "-"}" "{user_agent or "-"}"',
        fields,
    )
