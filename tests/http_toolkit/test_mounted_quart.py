"""The Quart app a mount builds skips signals and hooks nobody registered; registered ones run
exactly as stock Quart runs them. Each test serves the same blueprint through both and compares
what the hooks, signals and handler saw, and the response.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from _support.asgi import Recorder, http_scope
from blinker import Signal
from quart import (
    Blueprint,
    Quart,
    after_this_request,
    current_app,
    g,
    request,
    session,
    signals,
    url_for,
    websocket,
)

from backstage_runtime.http_toolkit import ErrorResponder, RequestInfo, set_request_info
from backstage_runtime.http_toolkit._quart_app import MountedQuart
from backstage_runtime.http_toolkit._quart_mount import ExpressJsonProvider, build_quart_app
from backstage_runtime.testing import MockRootLogger

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # Quart is asyncio-only


Events = list[str]


def mounted(routes: Blueprint) -> Quart:
    return build_quart_app(
        "mounted",
        [routes],
        ErrorResponder(MockRootLogger(), include_stack=False),
        relative_urls=True,
    )


def stock(routes: Blueprint) -> Quart:
    """Stock Quart configured as the mounted app is: only the request cycle differs."""
    app = Quart("stock", static_folder=None)
    app.url_map.strict_slashes = False
    app.url_map.merge_slashes = False
    app.json = ExpressJsonProvider(app)
    app.register_blueprint(routes)
    return app


def request_once() -> Callable[[], Any]:
    """A receive: the (empty) request, then nothing until the test ends, as from a client that
    stays connected.
    """
    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await never.wait()
        raise AssertionError("unreachable")  # pragma: no cover

    return receive


async def serve(app: Quart, path: str, method: str = "GET", **scope: Any) -> Recorder:
    send = Recorder()
    whole = {
        **http_scope("/api/demo" + path, method=method, root_path="/api/demo"),
        "scheme": "http",
        "client": ("127.0.0.1", 1),
        "headers": [(b"host", b"localhost:7007")],
        **scope,
    }
    asgi: Any = app  # Quart types its ASGI entry with Hypercorn's event types
    await asgi(whole, request_once(), send)
    return send


async def both(make: Callable[[Events], Blueprint], path: str, **scope: Any) -> list[Any]:
    """What the stock app and the mounted app each gave: the events and the response."""
    seen = []
    for build in (stock, mounted):
        events: Events = []
        send = await serve(build(make(events)), path, **scope)
        seen.append((events, send.status, send.body))
    return seen


def hooked(events: Events) -> Blueprint:
    routes = Blueprint("demo", __name__)

    @routes.url_value_preprocessor
    def preprocess(endpoint: str | None, values: dict[str, Any] | None) -> None:
        events.append(f"preprocess {endpoint} {values}")

    @routes.before_app_request
    async def before_app() -> None:
        g.order = ["app"]
        events.append("before app")

    @routes.before_request
    async def before() -> None:
        g.order.append("blueprint")
        events.append(f"before {current_app.name != ''}")

    @routes.after_request
    async def after(response: Any) -> Any:
        events.append(f"after {response.status_code}")
        response.headers["X-After"] = "yes"
        return response

    @routes.teardown_request
    async def teardown(error: BaseException | None) -> None:
        events.append(f"teardown {error!r}")

    @routes.teardown_app_request
    def teardown_sync(error: BaseException | None) -> None:
        events.append("teardown app")

    @routes.get("/items/<int:item>")
    async def item(item: int) -> Any:
        @after_this_request
        async def once(response: Any) -> Any:
            events.append("after this request")
            return response

        events.append(f"view {item} {g.order} {session.get('user')}")
        return {"item": item, "url": url_for("demo.item", item=item)}

    return routes


async def test_hooks_run_as_in_stock_quart_with_g_and_current_app() -> None:
    stock_seen, mounted_seen = await both(hooked, "/items/7")

    assert mounted_seen == stock_seen
    events, status, body = mounted_seen
    assert status == 200
    assert body == b'{"item":7,"url":"/api/demo/items/7"}'
    assert events == [
        "preprocess demo.item {'item': 7}",
        "before app",
        "before True",
        "view 7 ['app', 'blueprint'] None",
        "after this request",
        "after 200",
        "teardown None",
        "teardown app",
    ]


async def test_a_before_request_answer_skips_the_view_as_in_stock_quart() -> None:
    def short_circuit(events: Events) -> Blueprint:
        routes = Blueprint("demo", __name__)

        @routes.before_request
        async def refuse() -> Any:
            events.append("before")
            return "refused", 403

        @routes.get("/items")
        async def items() -> Any:
            events.append("view")  # pragma: no cover
            return "never"  # pragma: no cover

        return routes

    stock_seen, mounted_seen = await both(short_circuit, "/items")

    assert mounted_seen == stock_seen == (["before"], 403, b"refused")


async def test_a_noting_app_names_the_matched_route_before_any_hook_answers() -> None:
    routes = Blueprint("demo", __name__)

    @routes.before_request
    async def refuse() -> Any:
        return "refused", 403

    @routes.get("/items/<int:item>")
    async def item(item: int) -> Any:
        return "never"  # pragma: no cover

    app = mounted(routes)
    assert isinstance(app, MountedQuart)
    app.notes_routes = True
    infos = [RequestInfo("matched", 0.0), RequestInfo("unmatched", 0.0)]
    for info, path in zip(infos, ("/items/7", "/nothing"), strict=True):
        extra: dict[str, Any] = {}
        set_request_info(extra, info)
        await serve(app, path, **extra)

    # The template under its mount path, as the span and metrics name it; no route, no name.
    assert [info.route for info in infos] == ["/api/demo/items/<int:item>", None]


async def test_without_noting_an_app_leaves_the_route_unnamed() -> None:
    routes = Blueprint("demo", __name__)

    @routes.get("/items")
    async def items() -> Any:
        return "ok"

    info = RequestInfo("r", 0.0)
    extra: dict[str, Any] = {}
    set_request_info(extra, info)
    send = await serve(mounted(routes), "/items", **extra)

    assert send.status == 200
    assert info.route is None


async def test_a_sync_view_runs_as_in_stock_quart() -> None:
    def sync_view(events: Events) -> Blueprint:
        routes = Blueprint("demo", __name__)

        @routes.get("/sync")
        def answer() -> str:
            events.append(f"view {request.path}")
            return "sync"

        return routes

    stock_seen, mounted_seen = await both(sync_view, "/sync")

    assert mounted_seen == stock_seen == (["view /sync"], 200, b"sync")


async def test_after_this_request_alone_runs_as_in_stock_quart() -> None:
    def once(events: Events) -> Blueprint:
        routes = Blueprint("demo", __name__)

        @routes.get("/once")
        async def answer() -> str:
            @after_this_request
            async def tag(response: Any) -> Any:
                events.append(f"after this request {response.status_code}")
                response.status_code = 202
                return response

            return "once"

        return routes

    stock_seen, mounted_seen = await both(once, "/once")

    assert mounted_seen == stock_seen == (["after this request 200"], 202, b"once")


@contextlib.contextmanager
def receiving(events: Events) -> Iterator[None]:
    """Record every request signal Quart sends while inside."""
    names = [
        "appcontext_pushed",
        "request_started",
        "request_finished",
        "request_tearing_down",
        "appcontext_tearing_down",
        "appcontext_popped",
    ]
    receivers = []
    for name in names:
        signal: Signal = getattr(signals, name)

        async def receive(sender: Any, name: str = name, **extra: Any) -> None:
            events.append(f"{name} {sorted(extra)}")

        signal.connect(receive)
        receivers.append((signal, receive))
    try:
        yield
    finally:
        for signal, receive in receivers:
            signal.disconnect(receive)


def plain(events: Events) -> Blueprint:
    routes = Blueprint("demo", __name__)

    @routes.get("/plain")
    async def answer() -> str:
        events.append("view")
        return "plain"

    return routes


async def test_signals_with_receivers_are_sent_as_in_stock_quart() -> None:
    seen = []
    for build in (stock, mounted):
        events: Events = []
        with receiving(events):
            send = await serve(build(plain(events)), "/plain")
        seen.append((events, send.body))

    assert seen[1] == seen[0]
    assert seen[1][0] == [
        "appcontext_pushed []",
        "request_started []",
        "view",
        "request_finished ['response']",
        "request_tearing_down ['exc']",
        "appcontext_tearing_down ['exc']",
        "appcontext_popped []",
    ]


async def test_without_receivers_no_signal_is_sent() -> None:
    app = mounted(plain([]))
    sent: list[str] = []
    originals = {}
    for name in ("request_started", "request_finished", "appcontext_pushed"):
        signal: Signal = getattr(signals, name)
        originals[name] = signal.send_async

        async def counted(*args: Any, name: str = name, **kwargs: Any) -> Any:
            sent.append(name)
            return await originals[name](*args, **kwargs)

        signal.send_async = counted  # type: ignore[method-assign]
    try:
        send = await serve(app, "/plain")
    finally:
        for name, original in originals.items():
            getattr(signals, name).send_async = original

    assert (send.status, sent) == (200, [])


async def test_a_configured_server_name_binds_urls_as_stock_quart_does() -> None:
    seen = []
    for build in (stock, mounted):
        app = build(plain([]))
        app.config["SERVER_NAME"] = "backstage.example.com"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            send = await serve(app, "/plain")
        seen.append((send.status, [str(w.message) for w in caught]))

    assert seen[1] == seen[0]
    assert seen[1] == (
        404,
        [
            "Current server name 'localhost:7007' doesn't match configured server name "
            "'backstage.example.com'"
        ],
    )


def test_mounted_apps_are_mounted_quarts() -> None:
    assert isinstance(mounted(plain([])), MountedQuart)


def sessions(events: Events) -> Blueprint:
    routes = Blueprint("demo", __name__)

    @routes.get("/session")
    async def answer() -> str:
        current = session._get_current_object()  # type: ignore[attr-defined]
        events.append(f"{type(current).__name__} {session.get('user')}")
        try:
            session["user"] = "guest"
        except RuntimeError as error:
            events.append(f"refused: {error}")
        return "session"

    return routes


async def test_without_a_secret_key_the_session_is_quarts_null_session() -> None:
    stock_seen, mounted_seen = await both(sessions, "/session")

    assert mounted_seen == stock_seen
    assert mounted_seen[0][0] == "NullSession None"
    assert mounted_seen[0][1].startswith("refused: The session is unavailable")


async def test_with_a_secret_key_the_session_is_quarts_cookie_session() -> None:
    seen = []
    for build in (stock, mounted):
        events: Events = []
        app = build(sessions(events))
        app.secret_key = "not-a-real-secret"
        send = await serve(app, "/session")
        cookies = [value for name, value in send.headers if name == b"set-cookie"]
        seen.append((events, len(cookies), cookies[0].startswith(b"session=")))

    assert seen[1] == seen[0] == (["SecureCookieSession None"], 1, True)


def sockets(events: Events) -> Blueprint:
    routes = Blueprint("demo", __name__)

    @routes.before_app_websocket
    async def before() -> None:
        g.greeting = "hello"

    @routes.websocket("/ws/<name>")
    async def echo(name: str) -> None:
        message = await websocket.receive()
        assert isinstance(message, str)  # the client sends text
        events.append(f"{name} {message} {g.greeting} {url_for('demo.echo', name=name)}")
        await websocket.send(f"{g.greeting} {message}")

    return routes


async def talk(app: Quart, *texts: str) -> Recorder:
    """Open a websocket to ``/api/demo/ws/bob``, send ``texts``, then stay connected."""
    incoming: list[dict[str, Any]] = [{"type": "websocket.connect"}]
    incoming += [{"type": "websocket.receive", "text": text} for text in texts]
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await never.wait()
        raise AssertionError("unreachable")  # pragma: no cover

    send = Recorder()
    scope = {
        **http_scope("/api/demo/ws/bob", root_path="/api/demo"),
        "type": "websocket",
        "scheme": "ws",
        "client": ("127.0.0.1", 1),
        "headers": [(b"host", b"localhost:7007")],
        "subprotocols": [],
    }
    asgi: Any = app
    await asgi(scope, receive, send)
    return send


async def test_a_websocket_is_served_as_stock_quart_serves_it() -> None:
    seen = []
    for build in (stock, mounted):
        events: Events = []
        send = await talk(build(sockets(events)), "there")
        seen.append((events, [m["type"] for m in send.messages], send.messages[1].get("text")))

    assert seen[1] == seen[0]
    assert seen[1] == (
        ["bob there hello ws://localhost:7007/api/demo/ws/bob"],
        ["websocket.accept", "websocket.send", "websocket.close"],
        "hello there",
    )


def _adapter_fields(app: Quart, host: str) -> dict[str, Any]:
    """The URL adapter of a request for ``host``, field by field (its map aside)."""
    context = app.test_request_context(
        "/api/demo/plain?x=1", headers={"host": host}, root_path="/api/demo"
    )
    adapter = context.url_adapter
    assert adapter is not None
    return {key: value for key, value in vars(adapter).items() if key != "map"}


@pytest.mark.parametrize(
    "host",
    ["localhost:7007", "LocalHost:7007", "example.com:80", "bücher.example:8080", "x.example"],
)
def test_a_url_adapter_is_bound_as_stock_quart_binds_it_first_and_again(host: str) -> None:
    expected = _adapter_fields(stock(plain([])), host)
    app = mounted(plain([]))

    assert [_adapter_fields(app, host), _adapter_fields(app, host)] == [expected, expected]


def test_a_host_bind_refuses_is_refused_every_time() -> None:
    from werkzeug.exceptions import BadHost

    app = mounted(plain([]))
    for _ in range(2):
        with pytest.raises(BadHost):
            _adapter_fields(app, "a..b:7007")
