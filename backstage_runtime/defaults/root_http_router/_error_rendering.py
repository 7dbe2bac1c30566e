"""The piece that turns an error escaping a mount into Backstage's error response."""

from __future__ import annotations

from ...http_toolkit import (
    ASGIApp,
    ErrorResponder,
    Message,
    Receive,
    Scope,
    Send,
    get_request_info,
    request_url,
    send_json,
)

__all__ = ["ErrorRendering"]


class ErrorRendering:
    """Answers an exception raised by ``app`` with ``errors``'s status and body (the URL as the
    root sees it), unless the response had already reached the server: then it re-raises and
    the server closes the connection, since nothing more can be said.

    It sits inside the response pieces (helmet, CORS, compression, ETag), so an error response
    is shaped like any other. Whether the response reached the server is read from the
    request's ``RequestInfo``; without one (served alone) it watches ``send`` itself.
    """

    __slots__ = ("_errors", "app")

    def __init__(self, app: ASGIApp, errors: ErrorResponder) -> None:
        self.app = app
        self._errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request; answer an error that escapes it while that is still possible."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        info = get_request_info(scope)
        watched = _StartWatch(send) if info is None else None
        try:
            await self.app(scope, receive, send if watched is None else watched)
        except Exception as error:
            started = (
                info.status is not None if info is not None else bool(watched and watched.started)
            )
            if started:
                raise
            status, body = self._errors.respond(
                error, method=scope["method"], url=request_url(scope, relative=False)
            )
            await send_json(send, status, body)


class _StartWatch:
    __slots__ = ("_send", "started")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)
