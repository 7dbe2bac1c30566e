"""The piece that bounds a request body while it is read, as Express's body parsers do."""

from __future__ import annotations

from dataclasses import dataclass

from ..api.errors import BackstageError
from ._asgi import ASGIApp, Message, Receive, Scope, Send, request_url, send_json
from ._error_responder import ErrorResponder

__all__ = [
    "DEFAULT_JSON_BODY_LIMIT",
    "DEFAULT_OTHER_BODY_LIMIT",
    "BodyLimitMiddleware",
    "BodyLimits",
    "PayloadTooLargeError",
    "is_json_content_type",
]

#: ``express.json()``'s default ``limit`` (``100kb``), which the routers of Backstage plugins get.
DEFAULT_JSON_BODY_LIMIT = 100 * 1024
#: Quart's own ``MAX_CONTENT_LENGTH``, what plugin blueprints accepted before this limit existed.
DEFAULT_OTHER_BODY_LIMIT = 16 * 1024 * 1024


class PayloadTooLargeError(BackstageError):
    """A request body over its limit (HTTP 413), named and worded as body-parser's error."""

    name = "PayloadTooLargeError"
    status_code = 413


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """The most bytes a request body may have: ``json`` for JSON bodies (``application/json``,
    ``application/*+json``), ``other`` for any other; None is no limit.
    """

    json: int | None = DEFAULT_JSON_BODY_LIMIT
    other: int | None = DEFAULT_OTHER_BODY_LIMIT

    def for_scope(self, scope: Scope) -> tuple[int | None, bool]:
        """The limit of the request's body by its ``Content-Type``, and whether that is JSON."""
        for name, value in scope["headers"]:
            if name == b"content-type" and is_json_content_type(value):
                return self.json, True
        return self.other, False


def is_json_content_type(value: bytes) -> bool:
    """Whether a ``Content-Type`` is JSON as Quart's ``is_json`` sees it (``get_json`` reads it)."""
    mimetype = value.split(b";", 1)[0].strip().lower()
    return mimetype == b"application/json" or (
        mimetype.startswith(b"application/") and mimetype.endswith(b"+json")
    )


# How much of a refused body is read and dropped so that the client reads the 413; an upload
# that goes on longer is cut off rather than waited for.
_DRAIN_BUDGET = 64 * 1024 * 1024


class _BodyTooLarge(Exception):
    """Raised from ``receive`` once the body went over its limit and was read to its end."""


class BodyLimitMiddleware:
    """Answers 413 ``PayloadTooLargeError`` for a body over its limit, without holding it.

    A ``Content-Length`` over the limit is refused before the handler runs. Otherwise the bytes
    are counted as the handler receives them (a chunked body, a ``Content-Length`` that lies):
    past the limit, the rest of the body is read and dropped and ``receive`` raises, which ends
    the handler; the response is then the 413. Like body-parser, the body is read to its end
    before the 413 is sent (up to 64 MB more), so that the client, still sending, reads the
    answer rather than a reset connection; nothing of it is kept.
    """

    __slots__ = ("_errors", "_limits", "app")

    def __init__(self, app: ASGIApp, limits: BodyLimits, errors: ErrorResponder) -> None:
        self.app = app
        self._limits = limits
        self._errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with its body bounded."""
        limit, json = self._limits.for_scope(scope) if scope["type"] == "http" else (None, False)
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _drain(receive)
            await self._refuse(scope, send, limit, json)
            return
        counted = _CountedReceive(receive, limit)
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched_send)
        except _BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, send, limit, json)
        except BaseExceptionGroup as group:
            # An app that reads in a task group (Quart reads in a task of its own) re-raises
            # the error wrapped.
            if started or group.subgroup(_BodyTooLarge) is None:
                raise
            rest = group.subgroup(lambda error: not isinstance(error, _BodyTooLarge))
            if rest is not None:
                raise rest from None
            await self._refuse(scope, send, limit, json)

    async def _refuse(self, scope: Scope, send: Send, limit: int, json: bool) -> None:
        kind = "JSON bodies" if json else "non-JSON bodies"
        error = PayloadTooLargeError(
            f"request entity too large: the limit for {kind} is {limit} bytes"
        )
        status, body = self._errors.respond(
            error, method=scope["method"], url=request_url(scope, relative=True)
        )
        await send_json(send, status, body)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses such a request before it gets here
    return None


async def _drain(receive: Receive) -> None:
    """Read the rest of the body, dropping it, up to :data:`_DRAIN_BUDGET` bytes: a body that
    goes on past that is not waited for (the server then closes the connection after the 413).
    """
    left = _DRAIN_BUDGET
    while left > 0:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        left -= len(message.get("body", b""))


class _CountedReceive:
    __slots__ = ("_limit", "_receive", "_seen")

    def __init__(self, receive: Receive, limit: int) -> None:
        self._receive = receive
        self._limit = limit
        self._seen = 0

    async def __call__(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self._seen += len(message.get("body", b""))
            if self._seen > self._limit:
                if message.get("more_body", False):
                    await _drain(self._receive)
                raise _BodyTooLarge
        return message
