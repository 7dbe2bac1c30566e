"""``root_http_router_service_factory(configure=...)``: the root pipeline assembled by the
application, served through a real Hypercorn socket.
"""

from __future__ import annotations

from typing import Any

import pytest
from _support.http import plugin_with_routes, request
from quart import Blueprint

from backstage_runtime import (
    NotAllowedError,
    RootHttpRouterConfigureContext,
    UnknownPieceError,
    root_http_router_service_factory,
)
from backstage_runtime.defaults.root_http_router import ListenOptions
from backstage_runtime.http_toolkit import ASGIApp, Receive, Scope, Send
from backstage_runtime.testing import start_test_backend

pytestmark = pytest.mark.anyio

LOOPBACK = ListenOptions("127.0.0.1", 0)


def hello() -> Blueprint:
    routes = Blueprint("hello", __name__)

    @routes.get("/hello")
    async def greet() -> dict[str, str]:
        return {"hello": "world"}

    return routes


def router(configure: Any, **options: Any) -> Any:
    options = {"log_requests": False, **options}
    return root_http_router_service_factory(default_listen=LOOPBACK, configure=configure, **options)


def header_middleware(name: str, seen: list[dict[str, str]] | None = None) -> Any:
    """Middleware adding ``x-<name>: yes`` to responses and recording the headers it saw
    leaving (those the pieces inside it set).
    """

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            async def sending(message: Any) -> None:
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers", []))
                    if seen is not None:
                        seen.append({k.decode(): v.decode() for k, v in headers})
                    headers.append((f"x-{name}".encode(), b"yes"))
                    message = {**message, "headers": headers}
                await send(message)

            await app(scope, receive, sending)

        return middleware

    wrap.__name__ = name
    return wrap


async def test_without_configure_the_pipeline_is_the_defaults_in_order() -> None:
    seen: list[list[str]] = []

    def configure(context: RootHttpRouterConfigureContext) -> None:
        context.apply_defaults()
        seen.append(context.piece_names)
        seen.append(list(context.defaults))

    async with start_test_backend(features=[router(configure)]):
        pass

    names, defaults = seen
    assert names == defaults
    assert names[:2] == ["request_tracking", "in_flight"]  # no request_log: log_requests=False
    assert names[-2:] == ["errors", "health"]


async def test_middleware_used_before_the_defaults_sees_their_headers_and_after_them_errors_render() -> (
    None
):
    outer_saw: list[dict[str, str]] = []

    def refuse(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["path"].endswith("/refused"):
                raise NotAllowedError("Refused by the application's middleware")
            await app(scope, receive, send)

        return middleware

    def configure(context: RootHttpRouterConfigureContext) -> None:
        context.use(header_middleware("outer", outer_saw))
        context.apply_defaults()
        context.use(refuse)

    features = [plugin_with_routes("hello", hello()), router(configure)]
    async with start_test_backend(features=features) as test:
        ok = await request("GET", await test.url("/api/hello/hello"))
        refused = await request("GET", await test.url("/api/hello/refused"))

    assert ok.status == 200
    assert ok.headers["x-outer"] == "yes"
    # Outside helmet: the security headers were already on the response it saw.
    assert "content-security-policy" in outer_saw[0]
    assert refused.status == 403
    assert refused.json()["error"] == {
        "name": "NotAllowedError",
        "message": "Refused by the application's middleware",
    }
    assert refused.headers["x-outer"] == "yes"


async def test_insert_before_and_after_place_middleware_next_to_a_named_piece() -> None:
    names: list[str] = []
    inside_helmet: list[dict[str, str]] = []

    def configure(context: RootHttpRouterConfigureContext) -> None:
        context.apply_defaults()
        context.insert_before("security_headers", header_middleware("before_helmet"))
        context.insert_after("security_headers", header_middleware("after_helmet", inside_helmet))
        names.extend(context.piece_names)

    features = [plugin_with_routes("hello", hello()), router(configure)]
    async with start_test_backend(features=features) as test:
        reply = await request("GET", await test.url("/api/hello/hello"))

    at = names.index("security_headers")
    assert names[at - 1 : at + 2] == ["before_helmet", "security_headers", "after_helmet"]
    assert reply.headers["x-before_helmet"] == reply.headers["x-after_helmet"] == "yes"
    assert "content-security-policy" not in inside_helmet[0]


async def test_replace_puts_an_own_request_logger_in_the_place_of_the_default() -> None:
    logged: list[str] = []
    names: list[str] = []

    def own_log(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            await app(scope, receive, send)
            logged.append(f"{scope['method']} {scope['path']}")

        return middleware

    def configure(context: RootHttpRouterConfigureContext) -> None:
        context.apply_defaults()
        context.replace("request_log", own_log)
        names.extend(context.piece_names)

    features = [plugin_with_routes("hello", hello()), router(configure, log_requests=True)]
    async with start_test_backend(features=features) as test:
        await request("GET", await test.url("/api/hello/hello"))
        backstage_lines = [
            e for e in test.logger.entries if e.fields.get("type") == "incomingRequest"
        ]

    assert logged == ["GET /api/hello/hello"]
    assert backstage_lines == []
    assert names[1] == "request_log"  # same place, same name


async def test_remove_takes_a_piece_out() -> None:
    def configure(context: RootHttpRouterConfigureContext) -> None:
        context.apply_defaults()
        context.remove("security_headers")

    features = [plugin_with_routes("hello", hello()), router(configure)]
    async with start_test_backend(features=features) as test:
        reply = await request("GET", await test.url("/api/hello/hello"))

    assert reply.status == 200
    assert "Content-Security-Policy" not in reply.headers


async def test_an_unknown_piece_name_fails_the_start_naming_the_piece() -> None:
    def configure(context: RootHttpRouterConfigureContext) -> None:
        context.apply_defaults()
        context.remove("request_logger")

    with pytest.raises(UnknownPieceError, match="no piece named 'request_logger'; its pieces: "):
        async with start_test_backend(features=[router(configure)]):
            pass


def test_unknown_piece_error_names_the_piece_and_the_pieces_held() -> None:
    from backstage_runtime.http_toolkit import Piece

    context = RootHttpRouterConfigureContext(
        config=None,  # type: ignore[arg-type]
        logger=None,  # type: ignore[arg-type]
        lifecycle=None,  # type: ignore[arg-type]
        defaults=[Piece("a", lambda app: app), Piece("b", lambda app: app)],
        mount=lambda path, handler: None,
    )
    with pytest.raises(UnknownPieceError, match=r"no piece named 'c'.*apply_defaults"):
        context.remove("c")
    context.apply_defaults()
    with pytest.raises(UnknownPieceError, match=r"no piece named 'c'; its pieces: a, b"):
        context.insert_after("c", header_middleware("x"))
    with pytest.raises(ValueError, match="already has a piece named 'a'"):
        context.use(Piece("a", lambda app: app))
    with pytest.raises(ValueError, match="already called"):
        context.apply_defaults()
    with pytest.raises(ValueError, match="name="):
        context.use(lambda app: app)


async def test_use_route_mounts_a_blueprint_at_a_root_path_behind_the_pipeline() -> None:
    root = Blueprint("root", __name__)

    @root.get("/status")
    async def status() -> dict[str, str]:
        return {"status": "fine"}

    async def configure(context: RootHttpRouterConfigureContext) -> None:
        context.apply_defaults()
        context.use_route("/custom", root)

    async with start_test_backend(features=[router(configure)]) as test:
        reply = await request("GET", await test.url("/custom/status"))

    assert reply.status == 200
    assert reply.json() == {"status": "fine"}
    assert "Content-Security-Policy" in reply.headers


async def test_without_apply_defaults_only_the_given_pieces_serve_the_routes() -> None:
    def configure(context: RootHttpRouterConfigureContext) -> None:
        context.use(header_middleware("only"))

    features = [plugin_with_routes("hello", hello()), router(configure)]
    async with start_test_backend(features=features) as test:
        reply = await request("GET", await test.url("/api/hello/hello"))
        health = await request("GET", await test.url("/.backstage/health/v1/liveness"))

    assert reply.status == 200
    assert reply.headers["x-only"] == "yes"
    assert "Content-Security-Policy" not in reply.headers
    assert health.status == 404  # the health piece was not applied
