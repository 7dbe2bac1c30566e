"""CORS exactly as the ``cors`` package does it with Backstage's options, through a real socket:
only allowed origins get CORS, and an ``OPTIONS`` from anyone else is routed like any request.
"""

from __future__ import annotations

from typing import Any

import pytest
from _support.http import Reply, plugin_with_routes, request
from quart import Blueprint

from backstage_runtime.testing import mock_credentials, start_test_backend

pytestmark = pytest.mark.anyio

ANONYMOUS = mock_credentials.none.headers()
CORS_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Expose-Headers",
    "Access-Control-Allow-Methods",
)
CONFIG = {
    "backend": {
        "cors": {
            "origin": ["https://*.example.com"],
            "credentials": True,
            "exposedHeaders": ["X-Total-Count"],
        }
    }
}


def guarded() -> Blueprint:
    routes = Blueprint("guarded", __name__)

    @routes.get("/things")
    async def things() -> Any:
        return {"things": []}

    return routes


def vary(reply: Reply) -> list[str]:
    return list(reply.headers.getall("Vary", []))  # type: ignore[attr-defined]


async def test_an_options_without_an_allowed_origin_is_routed_not_answered() -> None:
    async with start_test_backend(
        features=[plugin_with_routes("g", guarded())], config=CONFIG
    ) as test:
        url = await test.url("/api/g/things")
        unknown = await test.url("/nowhere")
        no_origin = await request("OPTIONS", url, headers=ANONYMOUS)
        evil = await request("OPTIONS", url, headers={**ANONYMOUS, "Origin": "https://evil.com"})
        unknown_path = await request("OPTIONS", unknown, headers={"Origin": "https://evil.com"})
        preflight = await request(
            "OPTIONS", url, headers={**ANONYMOUS, "Origin": "https://app.example.com"}
        )

    # The credentials barrier answers a guarded route, the 404 an unknown path; never a 204.
    assert (no_origin.status, evil.status, unknown_path.status) == (401, 401, 404)
    for reply in (no_origin, evil, unknown_path):
        for name in CORS_HEADERS:
            assert name not in reply.headers, name
        assert "Origin" not in ", ".join(vary(reply))
    # An allowed origin's OPTIONS is a preflight, before any barrier.
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example.com"


async def test_cors_headers_go_to_allowed_origins_only() -> None:
    async with start_test_backend(
        features=[plugin_with_routes("g", guarded())], config=CONFIG
    ) as test:
        url = await test.url("/api/g/things")
        allowed = await request("GET", url, headers={"Origin": "https://app.example.com"})
        evil = await request("GET", url, headers={"Origin": "https://evil.com"})
        none = await request("GET", url)

    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    assert allowed.headers["Access-Control-Expose-Headers"] == "X-Total-Count"
    assert vary(allowed) == ["Origin, Accept-Encoding"]
    for reply in (evil, none):
        assert reply.status == 200
        for name in CORS_HEADERS:
            assert name not in reply.headers, name
        assert vary(reply) == ["Accept-Encoding"]


async def test_a_preflight_varies_on_the_requested_headers_on_one_line() -> None:
    async with start_test_backend(
        features=[plugin_with_routes("g", guarded())], config=CONFIG
    ) as test:
        url = await test.url("/api/g/things")
        origin = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"}
        without = await request("OPTIONS", url, headers=origin)
        with_headers = await request(
            "OPTIONS", url, headers={**origin, "Access-Control-Request-Headers": "authorization"}
        )

    for reply in (without, with_headers):
        assert reply.status == 204
        assert vary(reply) == ["Origin, Access-Control-Request-Headers"]
    assert "Access-Control-Allow-Headers" not in without.headers
    assert with_headers.headers["Access-Control-Allow-Headers"] == "authorization"


async def test_without_an_origin_option_every_request_gets_the_wildcard() -> None:
    config = {"backend": {"cors": {"methods": ["GET"]}}}
    async with start_test_backend(
        features=[plugin_with_routes("g", guarded())], config=config
    ) as test:
        url = await test.url("/api/g/things")
        preflight = await request("OPTIONS", url, headers=ANONYMOUS)
        actual = await request("GET", url, headers={"Origin": "https://anyone.org"})

    # cors's default origin '*': every OPTIONS is a preflight, nothing varies on Origin.
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert vary(preflight) == ["Access-Control-Request-Headers"]
    assert actual.headers["Access-Control-Allow-Origin"] == "*"
    assert vary(actual) == ["Accept-Encoding"]
