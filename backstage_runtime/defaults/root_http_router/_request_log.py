"""One log entry per finished request, in the format of Backstage's request logging middleware."""

from __future__ import annotations

import time
from typing import Any

from ..._iso_time import IsoClock
from ...api import LoggerService
from ...http_toolkit import (
    ASGIApp,
    Receive,
    RequestInfo,
    Scope,
    Send,
    client_address,
    get_request_info,
)

__all__ = ["RequestLogMiddleware", "log_request"]


def log_request(
    logger: LoggerService,
    scope: Scope,
    info: RequestInfo,
    duration: float,
    clock: IsoClock | None = None,
) -> None:
    """Write ``[<date>] "<METHOD> <url> HTTP/<v>" <status> <length> "<referrer>" "<agent>"`` with
    Backstage's fields (``type: incomingRequest``, ``date``, ``method``, ``url``, ``status``,
    ``httpVersion``, ``userAgent``, ``contentLength``, ``referrer``) plus ``durationMs``,
    ``requestId``, ``plugin`` and ``ip`` (the client address, behind ``backend.trustProxy``).

    ``date`` is read from ``clock`` (the middleware keeps one, so that the date and time part
    is formatted once a second), else from the system clock.
    """
    # JavaScript's Date.toISOString(), as morgan's :date[iso]: milliseconds and a literal Z.
    date = (clock or IsoClock()).now()
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
    ip = client_address(scope)
    if ip is not None:
        fields["ip"] = ip
    logger.info(
        f'[{date}] "{method} {url} HTTP/{http_version}" {status} {length or 0} '
        f'"{referrer or "-"}" "{user_agent or "-"}"',
        fields,
    )


class RequestLogMiddleware:
    """Logs every HTTP request once it is over (whatever its outcome), from the
    :class:`RequestInfo` that :class:`RequestTracking` (outside it) attached.
    """

    __slots__ = ("_clock", "_logger", "app")

    def __init__(self, app: ASGIApp, logger: LoggerService) -> None:
        self.app = app
        self._logger = logger
        self._clock = IsoClock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, then log it."""
        info = get_request_info(scope) if scope["type"] == "http" else None
        if info is None:
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            log_request(self._logger, scope, info, time.perf_counter() - info.started, self._clock)
