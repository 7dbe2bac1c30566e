"""Compression and Express's ETag/304, through a real Hypercorn socket.

Expected values are computed here independently of the implementation: ETags from hashlib as
jshttp/etag defines them, bodies decoded with zlib.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import zlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import anyio
import brotli
import pytest
from _support.http import Reply, plugin_with_routes
from quart import Blueprint, Response

from backstage_runtime.defaults.root_http_router import (
    ListenOptions,
    root_http_router_service_factory,
)
from backstage_runtime.testing import start_test_backend

pytestmark = pytest.mark.anyio

BIG = {"items": [{"id": i, "name": f"component-{i}", "owner": "team-a"} for i in range(60)]}
BIG_BYTES = json.dumps(BIG, separators=(",", ":")).encode()
SMALL_BYTES = b'{"hello":"world"}'
# A header set by hand so that nothing else decides what the client accepts.
GZIP = {"Accept-Encoding": "gzip, deflate"}


def expected_etag(body: bytes) -> str:
    """jshttp/etag 1.8.1 with ``weak: true``, written out."""
    digest = base64.b64encode(hashlib.sha1(body).digest()).decode()[:27]
    return f'W/"{len(body):x}-{digest}"'


def routes(release: anyio.Event | None = None) -> Blueprint:
    blueprint = Blueprint("z", __name__)

    @blueprint.get("/big")
    async def big() -> Any:
        return BIG

    @blueprint.get("/small")
    async def small() -> Any:
        return {"hello": "world"}

    @blueprint.get("/no-transform")
    async def no_transform() -> Any:
        return BIG, 200, {"Cache-Control": "public, no-transform"}

    @blueprint.get("/image")
    async def image() -> Any:
        return Response(b"\x89PNG" + bytes(4000), content_type="image/png")

    @blueprint.get("/tagged")
    async def tagged() -> Any:
        return {"hello": "world"}, 200, {"ETag": '"v1"'}

    @blueprint.post("/echo")
    async def echo() -> Any:
        return {"hello": "world"}

    @blueprint.get("/events")
    async def events() -> Any:
        async def generate() -> AsyncIterator[bytes]:
            yield b"data: first\n\n"
            assert release is not None
            await release.wait()  # the test lets go only after it decoded the first event
            yield b"data: second\n\n"

        return generate(), 200, {"Content-Type": "text/event-stream"}

    @blueprint.get("/tiny-stream")
    async def tiny_stream() -> Any:
        async def generate() -> AsyncIterator[bytes]:
            yield b"tiny"

        return generate(), 200, {"Content-Type": "text/plain"}

    @blueprint.get("/beep")
    async def beep() -> Any:
        return "beep boop"

    @blueprint.get("/created")
    async def created() -> Any:
        return {"id": 1}, 201

    return blueprint


async def fetch(
    method: str, url: str, headers: Mapping[str, str] | None = None, **kwargs: Any
) -> Reply:
    """One request with exactly ``headers`` (no default Accept-Encoding), body as sent."""
    async with (
        aiohttp.ClientSession(auto_decompress=False) as session,
        session.request(
            method,
            url,
            headers=dict(headers or {}),
            skip_auto_headers=["Accept-Encoding"],
            allow_redirects=False,
            **kwargs,
        ) as response,
    ):
        return Reply(response.status, response.headers, await response.read())


async def test_large_json_is_gzipped_and_keeps_the_uncompressed_etag() -> None:
    async with start_test_backend(features=[plugin_with_routes("z", routes())]) as test:
        reply = await fetch("GET", await test.url("/api/z/big"), GZIP)

    assert reply.status == 200
    assert reply.headers["Content-Encoding"] == "gzip"
    assert reply.headers["Vary"] == "Accept-Encoding"
    assert "Content-Length" not in reply.headers
    assert reply.headers["Transfer-Encoding"] == "chunked"
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    assert len(reply.body) < len(BIG_BYTES)
    assert gzip.decompress(reply.body) == BIG_BYTES
    # Express tags the body before compression sees it.
    assert reply.headers["ETag"] == expected_etag(BIG_BYTES)


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("deflate", "deflate"),
        ("deflate, gzip", "gzip"),  # equal quality: compression prefers gzip
        ("gzip;q=0.5, deflate", "deflate"),
        ("*", "br"),  # the first preferred coding
        ("br", "br"),
        ("br, deflate", "br"),
        ("gzip, br", "br"),  # equal quality: compression prefers br, then gzip
        ("br;q=0.5, gzip", "gzip"),
        ("br;q=0, deflate", "deflate"),
        ("identity", None),
        ("gzip;q=0, deflate;q=0", None),
        (None, None),  # no header: identity, as compression's enforceEncoding default
    ],
)
async def test_the_coding_is_negotiated_as_compression_does(
    accept: str | None, coding: str | None
) -> None:
    headers = {} if accept is None else {"Accept-Encoding": accept}
    async with start_test_backend(features=[plugin_with_routes("z", routes())]) as test:
        reply = await fetch("GET", await test.url("/api/z/big"), headers)

    assert reply.headers["Vary"] == "Accept-Encoding"
    assert reply.headers.get("Content-Encoding") == coding
    if coding is None:
        assert reply.body == BIG_BYTES
        assert reply.headers["Content-Length"] == str(len(BIG_BYTES))
    elif coding == "gzip":
        assert gzip.decompress(reply.body) == BIG_BYTES
    elif coding == "br":
        assert brotli.decompress(reply.body) == BIG_BYTES
    else:
        assert zlib.decompress(reply.body) == BIG_BYTES  # HTTP deflate is the zlib format


async def test_what_compression_leaves_alone() -> None:
    async with start_test_backend(features=[plugin_with_routes("z", routes())]) as test:
        small = await fetch("GET", await test.url("/api/z/small"), GZIP)
        no_transform = await fetch("GET", await test.url("/api/z/no-transform"), GZIP)
        image = await fetch("GET", await test.url("/api/z/image"), GZIP)
        head = await fetch("HEAD", await test.url("/api/z/big"), GZIP)
        get = await fetch("GET", await test.url("/api/z/big"), GZIP)

    # Below the 1 KiB threshold: as is, but the response still varies on Accept-Encoding.
    assert "Content-Encoding" not in small.headers
    assert (small.body, small.headers["Content-Length"]) == (SMALL_BYTES, "17")
    assert small.headers["Vary"] == "Accept-Encoding"
    # Cache-Control: no-transform, and types compressible() rejects: untouched, no Vary.
    assert no_transform.body == BIG_BYTES
    assert "Content-Encoding" not in no_transform.headers
    assert "Vary" not in no_transform.headers
    assert "Content-Encoding" not in image.headers
    assert "Vary" not in image.headers
    assert image.headers["Content-Length"] == "4004"
    # HEAD: Vary, no coding, the identity length, and the ETag of the body GET would send.
    assert head.status == 200
    assert head.body == b""
    assert "Content-Encoding" not in head.headers
    assert head.headers["Vary"] == "Accept-Encoding"
    assert head.headers["Content-Length"] == str(len(BIG_BYTES))
    assert head.headers["ETag"] == get.headers["ETag"] == expected_etag(BIG_BYTES)


class _BrotliStream:
    """zlib's decompressobj interface over brotli's streaming decoder."""

    def __init__(self) -> None:
        self._decoder = brotli.Decompressor()

    def decompress(self, data: bytes) -> bytes:
        return bytes(self._decoder.process(data))

    @property
    def eof(self) -> bool:
        return bool(self._decoder.is_finished())


@pytest.mark.parametrize("coding", ["gzip", "br"])
async def test_a_stream_is_compressed_and_flushed_chunk_by_chunk(coding: str) -> None:
    release = anyio.Event()
    async with start_test_backend(features=[plugin_with_routes("z", routes(release))]) as test:
        url = await test.url("/api/z/events")
        decoder: Any = zlib.decompressobj(wbits=31) if coding == "gzip" else _BrotliStream()
        decoded = b""
        accept = {"Accept-Encoding": coding}
        with anyio.fail_after(10):  # a held-back first event would block here until then
            async with (
                aiohttp.ClientSession(auto_decompress=False) as session,
                session.get(url, headers=accept, skip_auto_headers=["Accept-Encoding"]) as response,
            ):
                assert response.headers["Content-Encoding"] == coding
                assert response.headers["Content-Type"] == "text/event-stream"
                assert "ETag" not in response.headers  # a stream, as res.write: no tag
                while decoded != b"data: first\n\n":
                    chunk = await response.content.readany()
                    assert chunk, f"stream ended early after {decoded!r}"
                    decoded += decoder.decompress(chunk)
                release.set()
                rest = await response.read()
        decoded += decoder.decompress(rest)

    assert decoded == b"data: first\n\ndata: second\n\n"
    assert decoder.eof  # the stream was finished properly


async def test_a_stream_without_length_is_compressed_whatever_its_size() -> None:
    # Node: a response written with res.write has no known length, so the threshold cannot
    # apply; Quart's generators give no Content-Length either.
    async with start_test_backend(features=[plugin_with_routes("z", routes())]) as test:
        reply = await fetch("GET", await test.url("/api/z/tiny-stream"), GZIP)

    assert reply.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(reply.body) == b"tiny"


async def test_etags_are_jshttps_for_routes_errors_and_health() -> None:
    async with start_test_backend(features=[plugin_with_routes("z", routes())]) as test:
        beep = await fetch("GET", await test.url("/api/z/beep"))
        small = await fetch("GET", await test.url("/api/z/small"))
        created = await fetch("GET", await test.url("/api/z/created"))
        missing = await fetch("GET", await test.url("/api/z/missing"))
        health = await fetch("GET", await test.url("/.backstage/health/v1/liveness"))
        health_head = await fetch("HEAD", await test.url("/.backstage/health/v1/liveness"))

    # jshttp/etag's own test value (etag('beep boop')), made weak as Express does.
    assert beep.body == b"beep boop"
    assert beep.headers["ETag"] == 'W/"9-fINXV39R1PCo05OqGqr7KIY9lCE"'
    assert small.headers["ETag"] == expected_etag(SMALL_BYTES)
    assert created.status == 201
    assert created.headers["ETag"] == expected_etag(b'{"id":1}')
    assert missing.status == 404
    assert missing.headers["ETag"] == expected_etag(missing.body)
    assert health.headers["ETag"] == expected_etag(b'{"status":"ok"}')
    assert health_head.body == b""
    assert health_head.headers["ETag"] == health.headers["ETag"]
    assert health_head.headers["Content-Length"] == "15"


async def test_a_matching_if_none_match_gets_304_without_a_body() -> None:
    etag = expected_etag(BIG_BYTES)
    async with start_test_backend(features=[plugin_with_routes("z", routes())]) as test:
        url = await test.url("/api/z/big")
        cached = await fetch("GET", url, {**GZIP, "If-None-Match": etag})
        listed = await fetch("GET", url, {"If-None-Match": f'"other", {etag.removeprefix("W/")}'})
        star = await fetch("GET", url, {"If-None-Match": "*"})
        stale = await fetch("GET", url, {"If-None-Match": 'W/"1-abc"'})
        reload = await fetch("GET", url, {"If-None-Match": etag, "Cache-Control": "no-cache"})
        head = await fetch("HEAD", url, {"If-None-Match": etag})

    assert cached.status == 304
    assert cached.body == b""
    assert cached.headers["ETag"] == etag
    for absent in ("Content-Type", "Content-Length", "Content-Encoding", "Vary"):
        assert absent not in cached.headers, absent
    assert cached.headers["X-Frame-Options"] == "SAMEORIGIN"  # helmet's headers stay
    # A weak comparison: the strong form of the tag matches too, anywhere in a list.
    assert listed.status == 304
    assert star.status == 304
    assert (stale.status, stale.body) == (200, BIG_BYTES)
    assert (reload.status, reload.body) == (200, BIG_BYTES)
    assert (head.status, head.body) == (304, b"")


async def test_post_is_tagged_but_never_304_and_a_handlers_etag_is_kept() -> None:
    etag = expected_etag(SMALL_BYTES)
    async with start_test_backend(features=[plugin_with_routes("z", routes())]) as test:
        post = await fetch("POST", await test.url("/api/z/echo"), {"If-None-Match": etag})
        own = await fetch("GET", await test.url("/api/z/tagged"))
        own_cached = await fetch("GET", await test.url("/api/z/tagged"), {"If-None-Match": '"v1"'})

    # res.send tags every method's response, but req.fresh is false for anything but GET/HEAD.
    assert (post.status, post.body) == (200, SMALL_BYTES)
    assert post.headers["ETag"] == etag
    assert own.headers.getall("ETag") == ['"v1"']  # type: ignore[attr-defined]
    assert (own_cached.status, own_cached.body) == (304, b"")


async def test_the_request_log_reports_the_bytes_sent() -> None:
    features = [
        plugin_with_routes("z", routes()),
        root_http_router_service_factory(default_listen=ListenOptions("127.0.0.1", 0)),
    ]
    async with start_test_backend(features=features) as test:
        url = await test.url("/api/z/big")
        plain = await fetch("GET", url)
        compressed = await fetch("GET", url, GZIP)
        cached = await fetch("GET", url, {"If-None-Match": expected_etag(BIG_BYTES)})
        lines = [e for e in test.logger.entries if e.fields.get("type") == "incomingRequest"]

    assert [line.fields["status"] for line in lines] == [200, 200, 304]
    assert lines[0].fields["contentLength"] == len(plain.body) == len(BIG_BYTES)
    # Compressed: the bytes that went out (Node logs 0, as compression removed the header).
    assert lines[1].fields["contentLength"] == len(compressed.body) < len(BIG_BYTES)
    assert f" 200 {len(compressed.body)} " in lines[1].message
    assert lines[2].fields["contentLength"] == len(cached.body) == 0
