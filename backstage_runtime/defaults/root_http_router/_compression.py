"""Response compression as Express's ``compression()`` middleware (1.8.1, the version
``compression@^1.7.4`` resolves to for ``@backstage/backend-defaults``) applies it with its
defaults, for br, gzip and deflate.

In ``compression``'s order: a response whose ``Content-Type`` is not compressible, or whose
``Cache-Control`` says ``no-transform``, is left alone; every other one gets ``Vary:
Accept-Encoding``; then it stays uncompressed if its ``Content-Length`` is below 1 KiB, if it
already has a ``Content-Encoding``, for HEAD, and when the client accepts no supported coding (no
``Accept-Encoding`` at all means identity). A compressed response loses its ``Content-Length``.

The coding is negotiated as compression's Node with brotli does: ``br``, ``gzip``, ``deflate``,
``identity`` supported, ``br`` then ``gzip`` preferred among equal qualities (brotli at quality
4, compression's default).

Differences: a response without ``Content-Length`` counts as a stream (``res.write`` in Node) and
is compressed whatever its size. Each body message is flushed (``Z_SYNC_FLUSH``, brotli's flush)
so that streams and server-sent events are not held back; Node only flushes when the handler
calls ``res.flush()``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import anyio.to_thread

from ...http_toolkit import ASGIApp, Message, Receive, Scope, Send
from ._accept_encoding import negotiate_encoding
from ._compressible import compressible
from ._encoders import Encoder, new_encoder
from ._security_headers import SecurityHeadersMiddleware

__all__ = ["THRESHOLD", "CompressionMiddleware", "CompressionSend"]

#: ``compression``'s default threshold: smaller responses of known length are sent as they are.
THRESHOLD = 1024

# compression's SUPPORTED_ENCODING and PREFERRED_ENCODING where Node has brotli.
_SUPPORTED = ("br", "gzip", "deflate", "identity")
_PREFERRED = ("br", "gzip")
_NO_TRANSFORM = re.compile(r"(?:^|,)\s*?no-transform\s*?(?:,|$)")
_NO_BODY = frozenset((204, 304))
#: The header names that :meth:`CompressionSend._start` reads from the response's own headers
#: and not from the preset ones (``Vary`` it merges from both alike).
_ENTITY_NAMES = frozenset(
    (b"content-type", b"cache-control", b"content-length", b"content-encoding")
)

#: Larger chunks are compressed in a worker thread (zlib and brotli release the GIL) so that the
#: event loop keeps serving other requests; below this the thread hop costs more than it saves.
_OFFLOAD_BYTES = 64 * 1024


def _with_vary(
    preset: Sequence[tuple[bytes, bytes]],
    own: list[tuple[bytes, bytes]],
    own_vary: list[bytes],
) -> list[tuple[bytes, bytes]]:
    """``preset`` then ``own`` headers, with ``Accept-Encoding`` added to ``Vary`` as jshttp
    ``vary`` adds it: one header, existing fields first, nothing added to ``*`` or to a list that
    names it already. ``own_vary`` are the ``Vary`` values among ``own``.
    """
    # Preset headers are ours, always lower-case.
    existing = [value for name, value in preset if name == b"vary"] + own_vary
    if not existing:
        return [*preset, *own, (b"vary", b"Accept-Encoding")]
    value = b", ".join(existing)
    fields = [field.strip(b" ").lower() for field in value.split(b",")]
    if b"*" in fields or b"accept-encoding" in fields:
        return [*preset, *own]
    merged = value + b", Accept-Encoding" if value else b"Accept-Encoding"
    headers = [header for header in preset if header[0] != b"vary"]
    headers += [header for header in own if header[0].lower() != b"vary"]
    headers.append((b"vary", merged))
    return headers


def _js_number_below(value: bytes, limit: int) -> bool:
    # ``Number(header) < threshold``: an unparsable length is NaN, never below anything.
    try:
        return int(value) < limit  # the usual case: digits
    except ValueError:
        pass
    try:
        return float(value.strip() or b"0") < limit
    except ValueError:
        return False


class CompressionSend:
    """An ASGI ``send`` that compresses the response when ``compression()`` would.

    ``preset_headers`` are those the middleware before it set ahead of any handler (helmet,
    CORS): they go first, and a ``Vary`` among them is merged with the handler's and
    compression's into one header, as Node's single header object does.

    The decision is made on the start message, so nothing is held back; a compressed stream is
    flushed at the end of each body message and finished at the last one (or as soon as
    ``Content-Length`` bytes arrived, which makes a buffered response one compressed block).
    """

    __slots__ = ("_encoder", "_finished", "_preset", "_remaining", "_scope", "_send")

    def __init__(
        self, scope: Scope, send: Send, preset_headers: Sequence[tuple[bytes, bytes]] = ()
    ) -> None:
        self._scope = scope
        self._send = send
        self._preset = preset_headers
        self._encoder: Encoder | None = None
        self._remaining: int | None = None
        self._finished = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            message = self._start(message)
        elif message["type"] == "http.response.body" and self._encoder is not None:
            message = await self._body(message)
        await self._send(message)

    def _start(self, message: Message) -> Message:
        own: list[tuple[bytes, bytes]] = list(message.get("headers", ()))
        status: int = message["status"]
        if status < 200 or status in _NO_BODY:
            # No body (and Express strips a 304's Content-Type).
            return {**message, "headers": [*self._preset, *own]}
        content_type = cache_control = length = coding = None
        own_vary: list[bytes] = []
        for name, value in own:  # the preset headers never describe the entity
            lower = name.lower()
            if lower == b"content-type":
                content_type = content_type or value
            elif lower == b"cache-control":
                cache_control = cache_control or value
            elif lower == b"content-length":
                length = length or value
            elif lower == b"content-encoding":
                coding = coding or value
            elif lower == b"vary":
                own_vary.append(value)
        if (
            content_type is None
            or not compressible(content_type.decode("latin-1"))
            or (
                cache_control is not None
                and _NO_TRANSFORM.search(cache_control.decode("latin-1")) is not None
            )
        ):
            return {**message, "headers": [*self._preset, *own]}
        headers = _with_vary(self._preset, own, own_vary)
        if (
            (length is not None and _js_number_below(length, THRESHOLD))
            or (coding or b"identity") != b"identity"
            or self._scope["method"] == "HEAD"
        ):
            return {**message, "headers": headers}
        encoding = self._negotiate()
        if encoding is None or encoding == "identity":
            return {**message, "headers": headers}
        self._encoder = new_encoder(encoding)
        if length is not None and length.strip().isdigit():
            self._remaining = int(length)
        headers = [(name, value) for name, value in headers if name.lower() != b"content-length"]
        headers.append((b"content-encoding", encoding.encode()))
        return {**message, "headers": headers}

    def _negotiate(self) -> str | None:
        values = [value for name, value in self._scope["headers"] if name == b"accept-encoding"]
        if not values or not any(values):
            return None  # compression's ``enforceEncoding`` default: identity
        accept = b", ".join(values).decode("latin-1")
        return negotiate_encoding(accept, _SUPPORTED, _PREFERRED)

    async def _body(self, message: Message) -> Message:
        if self._finished:
            return {**message, "body": b""}  # past the declared length: nothing more to say
        body: bytes = message.get("body", b"")
        last = not message.get("more_body", False)
        if self._remaining is not None:
            self._remaining -= len(body)
            last = last or self._remaining <= 0
        if not body and not last:
            return message  # an empty flush would only add an empty block
        encoder = self._encoder
        assert encoder is not None
        if len(body) >= _OFFLOAD_BYTES:
            data = await anyio.to_thread.run_sync(encoder.encode, body, last)
        else:
            data = encoder.encode(body, last)
        self._finished = last
        return {**message, "body": data}


class CompressionMiddleware:
    """``compression()``: every HTTP response goes out through a :class:`CompressionSend`.

    In the pipeline it sits outside the pieces that add headers (helmet, CORS): a ``send``
    wrapper sees what the ones inside it added, so it can merge their ``Vary`` with its own
    as Node's single header object does.

    When the piece it wraps is helmet's (:class:`SecurityHeadersMiddleware`, as in the
    default pipeline) it puts helmet's headers first itself, as preset headers, and calls what
    helmet wraps: the same response, without helmet's frame and ``send`` per request, nor a
    pass over its lines here. Decided once, when the pipeline is built, and only for headers
    that the passes treat alike either way (lower-case names, none describing the entity).
    """

    __slots__ = ("_preset", "app")

    def __init__(self, app: ASGIApp) -> None:
        preset: Sequence[tuple[bytes, bytes]] = ()
        if type(app) is SecurityHeadersMiddleware and _presettable(app.headers):
            preset = app.headers
            app = app.app
        self.app = app
        self._preset = preset

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request through a compressing ``send``."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, CompressionSend(scope, send, self._preset))


def _presettable(headers: Sequence[tuple[bytes, bytes]]) -> bool:
    # As preset headers they are taken as lower-case and never read for the entity; as the
    # response's own they would be lowered and read. Either way alike for these.
    return all(
        type(name) is bytes and name == name.lower() and name not in _ENTITY_NAMES
        for name, _ in headers
    )
