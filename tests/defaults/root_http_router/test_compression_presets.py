"""Compression that puts helmet's headers first itself (helmet's piece directly inside it) sends
what helmet's piece inside compression sends, and only takes over headers it treats alike.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from _support.asgi import Recorder, http_scope, nothing

from backstage_runtime.defaults.root_http_router._compression import (
    CompressionMiddleware,
    CompressionSend,
)
from backstage_runtime.defaults.root_http_router._security_headers import (
    SecurityHeadersMiddleware,
    security_headers,
)

pytestmark = pytest.mark.anyio

BIG = b"x" * 2000


def responder(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def unfused(helmet: SecurityHeadersMiddleware) -> Any:
    """Helmet's piece inside compression, each with its own ``send`` (no preset headers)."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await helmet(scope, receive, CompressionSend(scope, send))

    return app


HELMETS = [
    security_headers(None),
    [(b"x-frame-options", b"SAMEORIGIN"), (b"vary", b"Origin")],
    [(b"vary", b"*")],
]
RESPONSES = [
    (200, [(b"content-type", b"application/json"), (b"content-length", b"2")], b"{}"),
    (200, [(b"content-type", b"text/plain"), (b"content-length", b"2000")], BIG),
    (200, [(b"Content-Type", b"text/plain"), (b"Vary", b"Cookie")], BIG),
    (200, [(b"content-type", b"text/plain"), (b"cache-control", b"no-transform")], BIG),
    (200, [(b"content-type", b"image/png")], BIG),
    (304, [(b"etag", b'"1"')], b""),
    (200, [], b"plain"),
]


@pytest.mark.parametrize(
    ("helmet_headers", "response"), list(itertools.product(HELMETS, RESPONSES))
)
@pytest.mark.parametrize("accept", [b"gzip, br", b""])
async def test_the_response_is_the_one_helmet_inside_compression_sends(
    helmet_headers: list[tuple[bytes, bytes]],
    response: tuple[int, list[tuple[bytes, bytes]], bytes],
    accept: bytes,
) -> None:
    status, headers, body = response
    request = [(b"accept-encoding", accept)] if accept else []
    helmet = SecurityHeadersMiddleware(responder(status, headers, body), helmet_headers)
    fused: Any = CompressionMiddleware(helmet)
    assert fused.app is helmet.app  # helmet's piece is taken over

    expected, got = Recorder(), Recorder()
    await unfused(helmet)(http_scope("/x", headers=request), nothing, expected)
    await fused(http_scope("/x", headers=request), nothing, got)

    assert got.messages == expected.messages


@pytest.mark.parametrize(
    "helmet_headers",
    [
        [(b"content-type", b"text/html")],
        [(b"cache-control", b"no-store")],
        [(b"X-Frame-Options", b"SAMEORIGIN")],
    ],
)
async def test_headers_compression_would_read_differently_stay_with_helmet(
    helmet_headers: list[tuple[bytes, bytes]],
) -> None:
    helmet = SecurityHeadersMiddleware(responder(200, [], b""), helmet_headers)

    assert CompressionMiddleware(helmet).app is helmet


async def test_a_websocket_passes_by_both() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    both: Any = CompressionMiddleware(SecurityHeadersMiddleware(app, [(b"x-a", b"1")]))
    await both({"type": "websocket"}, nothing, Recorder())

    assert seen == ["websocket"]
