"""Root router mounting: prefixes, conflicts, the index path, and handlers of every kind."""

from __future__ import annotations

from typing import Any

import pytest
from _support.features import plugin_with_init
from _support.http import request
from quart import Blueprint, Quart

from backstage_runtime.api import core_services
from backstage_runtime.defaults.root_http_router import RouteConflictError
from backstage_runtime.defaults.root_http_router._routes import RouteTable
from backstage_runtime.testing import start_test_backend

pytestmark = pytest.mark.anyio


async def app_named(name: str) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        body = f"{name} {scope['root_path']} {scope['path']}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return app


def test_overlapping_paths_conflict_case_insensitively() -> None:
    table = RouteTable()
    table.add("/api/catalog", lambda *_: None)  # type: ignore[arg-type]
    table.add("/api/catalog-import", lambda *_: None)  # type: ignore[arg-type]
    with pytest.raises(RouteConflictError, match="Path /API conflicts with the existing path "):
        table.add("/API", lambda *_: None)  # type: ignore[arg-type]
    with pytest.raises(
        RouteConflictError,
        match="Path /api/catalog/x conflicts with the existing path /api/catalog",
    ):
        table.add("/api/catalog/x", lambda *_: None)  # type: ignore[arg-type]
    with pytest.raises(RouteConflictError, match="Root router path may not be empty"):
        table.add(" / ", lambda *_: None)  # type: ignore[arg-type]


def test_matching_is_by_whole_segments() -> None:
    table = RouteTable(index_path="/api/app")
    catalog = table.add("/api/catalog", lambda *_: None)  # type: ignore[arg-type]
    app = table.add("/api/app", lambda *_: None)  # type: ignore[arg-type]
    assert table.match("/api/catalog") is catalog
    assert table.match("/api/Catalog/entities") is catalog
    assert table.match("/api/catalogue") is None
    # The index path serves what matched nothing, except under /api, with the whole path.
    fallback = table.match("/catalog/default/component/x")
    assert fallback is not None
    assert (fallback.app, fallback.path) == (app.app, "")
    assert table.match("/api/unknown") is None
    assert table.match("/API") is None


async def test_root_level_handlers_of_every_kind() -> None:
    blueprint = Blueprint("root", __name__)

    @blueprint.get("/ping")
    async def ping() -> Any:
        return {"pong": True}

    quart_app = Quart("standalone")

    @quart_app.get("/hi")
    async def hi() -> Any:
        return {"hi": "there"}

    async def init(root: Any) -> None:
        root.use("/custom", blueprint)
        root.use("/quart", quart_app)
        root.use("/raw", await app_named("raw"))

    plugin = plugin_with_init("p", {"root": core_services.root_http_router}, init)
    async with start_test_backend(features=[plugin]) as test:
        ping_reply = await request("GET", await test.url("/custom/ping"))
        hi_reply = await request("GET", await test.url("/QUART/hi"))
        quart_missing = await request("GET", await test.url("/quart/missing"))
        raw = await request("GET", await test.url("/raw/a/b"))
        raw_mount = await request("GET", await test.url("/raw"))

    assert (ping_reply.status, ping_reply.json()) == (200, {"pong": True})
    assert (hi_reply.status, hi_reply.json()) == (200, {"hi": "there"})
    # The standalone Quart app got Backstage's error handler; at the root the URL is absolute.
    assert quart_missing.json()["request"]["url"] == "/quart/missing"
    assert raw.body == b"raw /raw /raw/a/b"
    # The mount point itself is served as the mount's "/", as Express does.
    assert raw_mount.body == b"raw /raw /raw/"


async def test_blueprints_and_one_asgi_app_combine_but_not_two_apps() -> None:
    errors: list[BaseException] = []
    routes = Blueprint("a", __name__)

    @routes.get("/from-blueprint")
    async def from_blueprint() -> dict[str, str]:
        return {"by": "blueprint"}

    async def own_app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": f"app {scope['path']}".encode()})

    async def init(http: Any) -> None:
        http.use(own_app)
        http.use(routes)
        try:
            http.use(Quart("second"))
        except ValueError as error:
            errors.append(error)

    async def init_other(http: Any) -> None:
        try:
            http.use(42)
        except TypeError as error:
            errors.append(error)

    plugin = plugin_with_init("mix", {"http": core_services.http_router}, init)
    other = plugin_with_init("other", {"http": core_services.http_router}, init_other)
    async with start_test_backend(features=[plugin, other]) as test:
        routed = await request("GET", await test.url("/api/mix/from-blueprint"))
        fell_through = await request("POST", await test.url("/api/mix/from-blueprint"))
        other_path = await request("GET", await test.url("/api/mix/elsewhere"))

    assert routed.json() == {"by": "blueprint"}
    assert fell_through.body == b"app /api/mix/from-blueprint"
    assert other_path.body == b"app /api/mix/elsewhere"
    assert [type(e) for e in errors] == [ValueError, TypeError]
    assert "Plugin 'mix' already uses an ASGI application" in str(errors[0])


async def test_two_blueprints_of_one_plugin_share_its_mount() -> None:
    first, second = Blueprint("first", __name__), Blueprint("second", __name__)

    @first.get("/one")
    async def one() -> Any:
        return {"from": "first"}

    @second.get("/two")
    async def two() -> Any:
        return {"from": "second"}

    async def init(http: Any) -> None:
        http.use(first)
        http.use(second)

    plugin = plugin_with_init("both", {"http": core_services.http_router}, init)
    async with start_test_backend(features=[plugin]) as test:
        replies = [
            await request("GET", await test.url("/api/both/one")),
            await request("GET", await test.url("/api/both/two")),
        ]
    assert [r.json() for r in replies] == [{"from": "first"}, {"from": "second"}]


async def test_every_plugin_gets_a_mount_even_without_routes() -> None:
    plugin = plugin_with_init("quiet")
    async with start_test_backend(features=[plugin]) as test:
        reply = await request("GET", await test.url("/api/quiet/anything"))
    assert reply.status == 404
    assert reply.json()["request"]["url"] == "/anything"
