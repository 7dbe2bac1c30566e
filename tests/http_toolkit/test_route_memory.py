"""A mounted app's remembered routes answer as stock Quart's matching does, request after
request, and only routes whose match cannot change are remembered.
"""

from __future__ import annotations

from typing import Any

import pytest
from _support.asgi import Recorder, http_scope
from quart import Blueprint, Quart, request
from werkzeug.routing import Map, Rule

from backstage_runtime.http_toolkit import ErrorResponder
from backstage_runtime.http_toolkit._quart_app import MountedQuart
from backstage_runtime.http_toolkit._quart_mount import (
    ExpressJsonProvider,
    build_quart_app,
    install_error_handler,
)
from backstage_runtime.http_toolkit._route_memory import (
    MAX_REMEMBERED_ROUTES,
    RouteMemory,
    route_key,
)
from backstage_runtime.testing import MockRootLogger

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # Quart is asyncio-only


def routes() -> Blueprint:
    blueprint = Blueprint("demo", __name__)

    @blueprint.get("/static")
    async def static() -> Any:
        return {"rule": str(request.url_rule), "args": request.view_args}

    @blueprint.get("/items/<item_id>")
    async def item(item_id: str) -> Any:
        return {"rule": str(request.url_rule), "args": request.view_args}

    @blueprint.get("/paged", defaults={"page": 1})
    @blueprint.get("/paged/<int:page>")
    async def paged(page: int) -> Any:
        return {"page": page}

    @blueprint.route("/only-post", methods=["POST"])
    async def only_post() -> str:
        return "posted"

    return blueprint


def mounted() -> MountedQuart:
    return build_quart_app(
        "mounted",
        [routes()],
        ErrorResponder(MockRootLogger(), include_stack=False),
        relative_urls=True,
    )


def stock() -> Quart:
    """Stock Quart configured as the mounted app is: only the request cycle differs."""
    app = Quart("stock", static_folder=None)
    app.url_map.strict_slashes = False
    app.url_map.merge_slashes = False
    app.json = ExpressJsonProvider(app)
    app.register_blueprint(routes())
    install_error_handler(
        app, ErrorResponder(MockRootLogger(), include_stack=False), relative_urls=True
    )
    return app


async def serve(app: Quart, path: str, method: str = "GET") -> tuple[int, bytes]:
    send = Recorder()
    scope = {
        **http_scope("/api/demo" + path, method=method, root_path="/api/demo"),
        "scheme": "http",
        "client": ("127.0.0.1", 1),
        "headers": [(b"host", b"localhost:7007")],
    }
    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop() if messages else {"type": "http.disconnect"}

    asgi: Any = app
    await asgi(scope, receive, send)
    return send.status, send.body


PATHS = [
    ("/static", "GET"),
    ("/static/", "GET"),
    ("/items/a", "GET"),
    ("/items/b", "GET"),
    ("/paged", "GET"),
    ("/paged/3", "GET"),
    ("/only-post", "GET"),
    ("/only-post", "POST"),
    ("/missing", "GET"),
    ("/static", "DELETE"),
]


async def test_every_request_is_answered_as_stock_quart_answers_it() -> None:
    reference, app = stock(), mounted()
    for _ in range(3):  # the later rounds from memory, where there is one
        for path, method in PATHS:
            assert await serve(app, path, method) == await serve(reference, path, method)


async def test_only_routes_without_arguments_or_defaults_are_remembered() -> None:
    app = mounted()
    for path, method in PATHS:
        await serve(app, path, method)

    remembered = {key[1:3]: str(rule) for key, rule in app.route_memory._routes.items()}
    assert remembered == {
        ("/static", "GET"): "/static",
        ("/static/", "GET"): "/static",
        ("/only-post", "POST"): "/only-post",
    }


def _adapter(url_map: Map, path: str) -> Any:
    return url_map.bind("localhost", "/", "", "http", "GET", path)


def test_a_new_rule_starts_the_memory_over() -> None:
    url_map = Map([Rule("/a", endpoint="a")])
    memory = RouteMemory()
    adapter = _adapter(url_map, "/a")
    key = route_key(adapter)
    rule, args = adapter.match(return_rule=True)
    assert memory.get(url_map, key) is None
    memory.learn(url_map, key, rule, args, None)
    assert memory.get(url_map, key) is rule

    url_map.add(Rule("/<path:p>", endpoint="any"))

    assert memory.get(url_map, key) is None
    assert memory.get(Map([Rule("/a", endpoint="a")]), key) is None  # another map


def test_the_memory_is_bounded() -> None:
    url_map = Map([Rule("/a", endpoint="a")])
    memory = RouteMemory()
    rule = next(url_map.iter_rules())
    memory.get(url_map, ("", "/", "GET", False))
    for index in range(MAX_REMEMBERED_ROUTES + 5):
        memory.learn(url_map, ("", "/" * index + "a", "GET", False), rule, {}, None)

    assert len(memory._routes) <= MAX_REMEMBERED_ROUTES
