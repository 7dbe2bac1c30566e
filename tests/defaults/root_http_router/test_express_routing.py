"""Routing as an Express router does it, through a real socket: non-strict trailing slashes,
the index mount's whole path, no routes nobody declared, and a credentials barrier that no
spelling of a path gets around.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anyio
import pytest
from _support.features import plugin_with_init
from _support.http import plugin_with_routes, request
from quart import Blueprint

from backstage_runtime.api import core_services
from backstage_runtime.testing import mock_credentials, start_test_backend

pytestmark = pytest.mark.anyio

ANONYMOUS = mock_credentials.none.headers()


async def raw_get(url: str, target: str, headers: dict[str, str] | None = None) -> int:
    """The status of ``GET target`` sent byte for byte (aiohttp would normalise the path)."""
    host, port = url.removeprefix("http://").split(":")
    lines = [f"GET {target} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    async with await anyio.connect_tcp(host, int(port)) as stream:
        await stream.send(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        try:
            while b"\r\n" not in data:
                data += await stream.receive()
        except anyio.EndOfStream:
            pass
    return int(data.split(b" ", 2)[1])


def slashes() -> Blueprint:
    routes = Blueprint("slashes", __name__)

    @routes.get("/hello")
    async def hello() -> Any:
        return {"route": "hello"}

    @routes.get("/dir/")
    async def directory() -> Any:
        return {"route": "dir"}

    @routes.get("/items/<item>")
    async def item(item: str) -> Any:
        return {"item": item}

    return routes


async def test_a_route_answers_with_or_without_its_trailing_slash() -> None:
    async with start_test_backend(features=[plugin_with_routes("s", slashes())]) as test:
        replies = {
            path: await request("GET", await test.url(f"/api/s{path}"))
            for path in ("/hello", "/hello/", "/dir", "/dir/", "/items/7/", "/Hello", "/hello//")
        }

    for path in ("/hello", "/hello/"):
        assert (replies[path].status, replies[path].json()) == (200, {"route": "hello"}), path
    for path in ("/dir", "/dir/"):  # no redirect to the slash, as Express
        assert (replies[path].status, replies[path].json()) == (200, {"route": "dir"}), path
    assert replies["/items/7/"].json() == {"item": "7"}
    # Case-sensitive as Quart's routing; doubled slashes are another path, not a redirect.
    assert replies["/Hello"].status == 404
    assert replies["/hello//"].status == 404


async def test_the_plugin_app_has_no_static_route(tmp_path: Path) -> None:
    # Quart would serve <root_path>/static/ (the working directory for our app names).
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "secret.txt").write_text("not a route")
    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        async with start_test_backend(features=[plugin_with_routes("s", slashes())]) as test:
            reply = await request("GET", await test.url("/api/s/static/secret.txt"))
    finally:
        os.chdir(here)
    assert reply.status == 404
    assert b"not a route" not in reply.body


async def test_the_index_plugin_gets_the_whole_path() -> None:
    seen: list[tuple[str, str]] = []
    routes = Blueprint("frontend", __name__)

    @routes.get("/<path:rest>")
    async def anything(rest: str) -> Any:
        from quart import request as current

        seen.append((current.scope["root_path"], current.scope["path"]))
        return {"rest": rest}

    async def init(http: Any) -> None:
        http.use(routes)
        http.add_auth_policy(path="/", allow="unauthenticated")

    plugin = plugin_with_init("app", {"http": core_services.http_router}, init)
    async with start_test_backend(features=[plugin]) as test:
        fallback = await request("GET", await test.url("/catalog/default/component/x"))
        own = await request("GET", await test.url("/api/app/index.html"))
        api = await request("GET", await test.url("/api/unknown/x"))
        api_itself = await request("GET", await test.url("/api"))

    assert fallback.json() == {"rest": "catalog/default/component/x"}
    assert own.json() == {"rest": "index.html"}
    assert seen == [("", "/catalog/default/component/x"), ("/api/app", "/api/app/index.html")]
    # Under /api (and /api itself) nothing falls through to the frontend.
    assert api.status == api_itself.status == 404


def guarded_and_open(reached: list[str]) -> Blueprint:
    routes = Blueprint("mixed", __name__)

    @routes.get("/secret")
    async def secret() -> Any:
        reached.append("secret")
        return {"secret": True}

    @routes.get("/public")
    async def public() -> Any:
        reached.append("public")
        return {"public": True}

    @routes.get("/Public/admin")
    async def admin() -> Any:
        # Another route to Quart, so the "/public" policy must not open it.
        reached.append("admin")
        return {"admin": True}

    return routes


@pytest.mark.parametrize(
    "target",
    [
        "/api/m/SECRET",
        "/api/m/secret/",
        "/api/m/Public/../secret",
        "/api/m/public/../secret",
        "/api/m/public/%2e%2e/secret",
        "/api/m/public/%2E%2E/secret",
        "/api/m/public%2f..%2fsecret",
        "/api/m/secret;public",
        "/api/m/public;/../secret",
        "/api/m//secret",
        "/api/m/public//secret",
        "/api/m/public/..//secret",
        "/API/M/secret",
        "/api/m/./secret",
        "/api/m/public/./../secret",
        "/api/m/Public/admin",
        "/api/m/Public/admin/",
    ],
)
async def test_no_spelling_of_a_path_gets_past_the_barrier(target: str) -> None:
    reached: list[str] = []
    plugin = plugin_with_routes(
        "m", guarded_and_open(reached), policies=[("/public", "unauthenticated")]
    )
    async with start_test_backend(features=[plugin]) as test:
        base = await test.url()
        status = await raw_get(base, target, ANONYMOUS)
        open_status = await raw_get(base, "/api/m/public", ANONYMOUS)
        signed_in = await raw_get(base, "/api/m/secret/", mock_credentials.user.headers())

    # The open route is open and the guarded one serves signed-in callers (slash or not) ...
    assert (open_status, signed_in) == (200, 200)
    # ... but an anonymous caller never reaches it, however the path is written.
    assert reached == ["public", "secret"], (target, status)
    assert status in (401, 404), status
