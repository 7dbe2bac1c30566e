"""Security headers, CORS and request logging, through a real Hypercorn socket."""

from __future__ import annotations

import re
from typing import Any

import pytest
from _support.http import plugin_with_routes, request
from quart import Blueprint

from backstage_runtime.defaults.root_http_router import (
    ListenOptions,
    root_http_router_service_factory,
)
from backstage_runtime.testing import start_test_backend

pytestmark = pytest.mark.anyio

HELMET_CSP = (
    "default-src 'self';base-uri 'self';font-src 'self' https: data:;frame-ancestors 'self';"
    "img-src 'self' data:;object-src 'none';script-src 'self' 'unsafe-eval';"
    "script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests"
)
HELMET_HEADERS = {
    "Content-Security-Policy": HELMET_CSP,
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=15552000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-DNS-Prefetch-Control": "off",
    "X-Download-Options": "noopen",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Permitted-Cross-Domain-Policies": "none",
    "X-XSS-Protection": "0",
}


def hello() -> Blueprint:
    routes = Blueprint("hello", __name__)

    @routes.get("/hello")
    async def say_hello() -> Any:
        return {"hello": "world"}

    return routes


async def test_every_response_carries_backstages_helmet_headers() -> None:
    async with start_test_backend(features=[plugin_with_routes("hello", hello())]) as test:
        replies = [
            await request("GET", await test.url("/api/hello/hello")),
            await request("GET", await test.url("/api/hello/missing")),
            await request("GET", await test.url("/.backstage/health/v1/liveness")),
        ]

    assert [r.status for r in replies] == [200, 404, 200]
    for reply in replies:
        for name, value in HELMET_HEADERS.items():
            assert reply.headers.get(name) == value, name
        assert "Server" not in reply.headers
        assert "X-Powered-By" not in reply.headers
        for absent in ("Cross-Origin-Embedder-Policy", "Cross-Origin-Opener-Policy"):
            assert absent not in reply.headers


async def test_csp_and_referrer_policy_follow_config() -> None:
    config = {
        "backend": {
            "csp": {
                "connect-src": ["'self'", "http:", "https:"],
                "upgradeInsecureRequests": False,
                "img-src": ["'self'", "data:", "https://avatars.example.com"],
            },
            "referrer": {"policy": ["no-referrer", "strict-origin-when-cross-origin"]},
        }
    }
    async with start_test_backend(features=[], config=config) as test:
        reply = await request("GET", await test.url("/.backstage/health/v1/liveness"))

    csp = reply.headers["Content-Security-Policy"].split(";")
    assert "upgrade-insecure-requests" not in csp
    # An override keeps the directive's place; a new directive goes last.
    assert csp[4] == "img-src 'self' data: https://avatars.example.com"
    assert csp[-1] == "connect-src 'self' http: https:"
    assert reply.headers["Referrer-Policy"] == "no-referrer,strict-origin-when-cross-origin"


async def test_cors_is_off_without_config() -> None:
    async with start_test_backend(features=[plugin_with_routes("hello", hello())]) as test:
        reply = await request(
            "GET", await test.url("/api/hello/hello"), headers={"Origin": "http://localhost:3000"}
        )
        preflight = await request(
            "OPTIONS",
            await test.url("/api/hello/hello"),
            headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"},
        )

    assert "Access-Control-Allow-Origin" not in reply.headers
    assert "Access-Control-Allow-Origin" not in preflight.headers


async def test_cors_reflects_origins_matching_the_configured_globs() -> None:
    config = {
        "backend": {
            "cors": {
                "origin": ["http://localhost:*", "https://*.example.com"],
                "credentials": True,
                "exposedHeaders": ["X-Total-Count"],
            }
        }
    }
    async with start_test_backend(
        features=[plugin_with_routes("hello", hello())], config=config
    ) as test:
        url = await test.url("/api/hello/hello")
        allowed = await request("GET", url, headers={"Origin": "https://portal.example.com"})
        other = await request("GET", url, headers={"Origin": "https://evil.com"})
        preflight = await request(
            "OPTIONS",
            url,
            headers={
                "Origin": "http://localhost:3000",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,authorization",
            },
        )

    assert allowed.status == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://portal.example.com"
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    assert allowed.headers["Access-Control-Expose-Headers"] == "X-Total-Count"
    # One header, as Node's: cors's field first, then compression's.
    assert allowed.headers.getall("Vary") == ["Origin, Accept-Encoding"]  # type: ignore[attr-defined]
    assert "Access-Control-Allow-Origin" not in other.headers
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET,HEAD,PUT,PATCH,POST,DELETE"
    assert preflight.headers["Access-Control-Allow-Headers"] == "content-type,authorization"
    assert preflight.headers["Content-Length"] == "0"


async def test_each_request_is_logged_once_in_backstages_format() -> None:
    features = [
        plugin_with_routes("hello", hello()),
        root_http_router_service_factory(default_listen=ListenOptions("127.0.0.1", 0)),
    ]
    async with start_test_backend(features=features) as test:
        await request(
            "GET",
            await test.url("/api/hello/hello?x=1"),
            headers={"User-Agent": "pytest", "X-Request-Id": "req-42"},
        )
        await request("GET", await test.url("/nope"))
        lines = [e for e in test.logger.entries if e.fields.get("type") == "incomingRequest"]

    assert len(lines) == 2
    first, second = lines
    assert re.fullmatch(
        r'\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] "GET /api/hello/hello\?x=1 HTTP/1\.1" '
        r'200 17 "-" "pytest"',
        first.message,
    )
    assert first.fields["method"] == "GET"
    assert first.fields["url"] == "/api/hello/hello?x=1"
    assert first.fields["status"] == 200
    assert first.fields["contentLength"] == 17
    assert first.fields["plugin"] == "hello"
    assert first.fields["requestId"] == "req-42"
    assert first.fields["date"].endswith("Z")
    assert first.fields["durationMs"] >= 0
    assert second.fields["status"] == 404
    assert "plugin" not in second.fields
    assert re.fullmatch(r"[0-9a-f]{32}", second.fields["requestId"])
