"""The Quart connection of mounted blueprints: Quart's behaviour (a disconnect cancels the
handler, a failing body reader fails the request, a response bounded by its timeout) with the
handler in the request's own task.
"""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest
from _support.asgi import Recorder, http_scope
from _support.polling import eventually
from quart import Blueprint, Response, request
from quart.asgi import ASGIHTTPConnection

from backstage_runtime.http_toolkit import ErrorResponder
from backstage_runtime.http_toolkit._quart_cancel import CancellableHTTPConnection
from backstage_runtime.http_toolkit._quart_mount import build_quart_app
from backstage_runtime.testing import MockRootLogger

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # Quart is asyncio-only


class Client:
    """An ASGI ``receive``: the request body, then nothing until :meth:`disconnect`."""

    def __init__(self, *bodies: bytes) -> None:
        self._messages: list[dict[str, Any]] = [
            {"type": "http.request", "body": body, "more_body": i < len(bodies) - 1}
            for i, body in enumerate(bodies or (b"",))
        ]
        self._gone = asyncio.Event()

    def disconnect(self) -> None:
        self._gone.set()

    async def __call__(self) -> dict[str, Any]:
        if self._messages:
            return self._messages.pop(0)
        await self._gone.wait()
        return {"type": "http.disconnect"}


def app_of(routes: Blueprint) -> Any:
    return build_quart_app(
        "test", [routes], ErrorResponder(MockRootLogger(), include_stack=False), relative_urls=True
    )


def scope_of(path: str, method: str = "GET") -> dict[str, Any]:
    return {**http_scope(path, method=method), "scheme": "http", "client": ("127.0.0.1", 1)}


async def test_the_handler_runs_in_the_request_task() -> None:
    routes = Blueprint("tasks", __name__)
    seen: list[asyncio.Task[Any] | None] = []

    @routes.get("/task")
    async def task() -> str:
        seen.append(asyncio.current_task())
        return "ok"

    send = Recorder()
    await app_of(routes)(scope_of("/task"), Client(), send)

    assert seen == [asyncio.current_task()]
    assert (send.status, send.body) == (200, b"ok")


async def test_the_body_is_read_while_the_handler_runs() -> None:
    routes = Blueprint("echo", __name__)

    @routes.post("/echo")
    async def echo() -> bytes:
        return await request.get_data(True, False, False)

    send = Recorder()
    await app_of(routes)(scope_of("/echo", "POST"), Client(b"hello ", b"world"), send)

    assert (send.status, send.body) == (200, b"hello world")


async def test_a_disconnect_cancels_the_handler_and_ends_the_request_quietly() -> None:
    routes = Blueprint("slow", __name__)
    events: list[str] = []

    @routes.get("/slow")
    async def slow() -> str:
        events.append("started")
        try:
            await anyio.sleep_forever()
        finally:
            events.append("cancelled")
        return "never"  # pragma: no cover

    client = Client()
    send = Recorder()
    async with anyio.create_task_group() as group:
        group.start_soon(app_of(routes), scope_of("/slow"), client, send)
        await eventually(lambda: events == ["started"])
        client.disconnect()
        await eventually(lambda: events == ["started", "cancelled"])

    assert send.messages == []


async def test_a_failing_body_reader_fails_the_request() -> None:
    routes = Blueprint("reader", __name__)
    events: list[str] = []

    @routes.post("/read")
    async def read() -> bytes:
        events.append("started")
        await anyio.sleep_forever()
        return b"never"  # pragma: no cover

    failed = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await failed.wait()
        raise OSError("the connection broke")

    async def serve() -> None:
        with pytest.raises(OSError, match="the connection broke"):
            await app_of(routes)(scope_of("/read", "POST"), receive, Recorder())
        events.append("raised")

    async with anyio.create_task_group() as group:
        group.start_soon(serve)
        await eventually(lambda: events == ["started"])
        failed.set()
    assert events == ["started", "raised"]


async def test_cancelling_the_request_cancels_the_handler_and_goes_on() -> None:
    routes = Blueprint("stuck", __name__)
    events: list[str] = []

    @routes.get("/stuck")
    async def stuck() -> str:
        events.append("started")
        try:
            await anyio.sleep_forever()
        finally:
            events.append("cancelled")
        return "never"  # pragma: no cover

    outcome: list[str] = []

    async def serve() -> None:
        try:
            await app_of(routes)(scope_of("/stuck"), Client(), Recorder())
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    task = asyncio.ensure_future(serve())
    await eventually(lambda: events == ["started"])
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert (events, outcome) == (["started", "cancelled"], ["cancelled"])


async def test_a_response_that_outlasts_its_timeout_is_left_unfinished() -> None:
    routes = Blueprint("stream", __name__)

    @routes.get("/stream")
    async def stream() -> Response:
        async def chunks() -> Any:
            yield b"first"
            await anyio.sleep_forever()

        response = Response(chunks())
        response.timeout = 0.05
        return response

    send = Recorder()
    with anyio.fail_after(5):
        await app_of(routes)(scope_of("/stream"), Client(), send)

    assert send.status == 200
    assert [m.get("body") for m in send.messages[1:]] == [b"first"]


async def test_a_buffered_body_is_one_message_that_ends_the_response() -> None:
    routes = Blueprint("buffered", __name__)

    @routes.get("/buffered")
    async def buffered() -> str:
        return "whole"

    send = Recorder()
    await app_of(routes)(scope_of("/buffered"), Client(), send)

    assert [(m["type"], m.get("body"), m.get("more_body")) for m in send.messages[1:]] == [
        ("http.response.body", b"whole", False)
    ]


async def test_a_streamed_body_is_sent_as_quart_sends_it() -> None:
    routes = Blueprint("streamed", __name__)

    @routes.get("/streamed")
    async def streamed() -> Response:
        async def chunks() -> Any:
            yield b"one"
            yield b"two"

        return Response(chunks())

    send = Recorder()
    await app_of(routes)(scope_of("/streamed"), Client(), send)

    assert [(m.get("body"), m.get("more_body")) for m in send.messages[1:]] == [
        (b"one", True),
        (b"two", True),
        (b"", False),
    ]


class CountingTasks:
    """A task factory counting the tasks the loop makes while installed."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        self.count += 1
        return asyncio.Task(coro, loop=loop, **kwargs)


async def tasks_made_by(app: Any, scope: dict[str, Any], client: Client, send: Recorder) -> int:
    loop = asyncio.get_running_loop()
    tasks = CountingTasks()
    previous = loop.get_task_factory()
    loop.set_task_factory(tasks)
    try:
        await app(scope, client, send)
    finally:
        loop.set_task_factory(previous)
    return tasks.count


async def test_a_request_without_a_body_answered_at_once_makes_no_task() -> None:
    routes = Blueprint("quick", __name__)

    @routes.get("/quick")
    async def quick() -> str:
        return "quick"

    send = Recorder()
    made = await tasks_made_by(app_of(routes), scope_of("/quick"), Client(), send)

    assert (made, send.status, send.body) == (0, 200, b"quick")


async def test_a_declared_body_is_read_from_the_start_as_quart_reads_it() -> None:
    routes = Blueprint("upload", __name__)
    before_any_await: list[int] = []

    @routes.post("/upload")
    async def upload() -> bytes:
        before_any_await.append(len(asyncio.all_tasks()))
        return await request.get_data(True, False, False)

    scope = {**scope_of("/upload", "POST"), "headers": [(b"content-length", b"5")]}
    send = Recorder()
    tasks_before = len(asyncio.all_tasks())
    await app_of(routes)(scope, Client(b"hello"), send)

    assert send.body == b"hello"
    assert before_any_await == [tasks_before + 1]  # the reader existed before the handler ran


async def test_a_send_that_waits_past_the_timeout_is_abandoned_and_the_task_goes_on() -> None:
    routes = Blueprint("slow_client", __name__)

    @routes.get("/slow-client")
    async def slow_client() -> Response:
        response = Response(b"never read")
        response.timeout = 0.05
        return response

    stuck = asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        await stuck.wait()  # a client that reads nothing

    with anyio.fail_after(5):
        await app_of(routes)(scope_of("/slow-client"), Client(), send)
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0
    await asyncio.sleep(0)  # not left cancelled


async def test_a_zero_timeout_does_not_cut_a_send_that_never_waits() -> None:
    routes = Blueprint("instant", __name__)

    @routes.get("/instant")
    async def instant() -> Response:
        response = Response(b"sent")
        response.timeout = 0
        return response

    send = Recorder()
    await app_of(routes)(scope_of("/instant"), Client(), send)

    assert (send.status, send.body) == (200, b"sent")


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"http_version": "1.0", "headers": [(b"accept", b"*/*")]},
        {"client": None},
        {"root_path": "/api/demo", "path": "/api/demo/items"},
        {"root_path": "/api/demo", "path": "/elsewhere"},
        {
            "headers": [
                (b"host", b"backstage.example.com"),
                (b"x-forwarded-for", b"10.0.0.1"),
                (b"x-forwarded-for", b"10.0.0.2"),
                (b"x-custom_header", b"caf\xe9"),
                (b"cookie", b"a=1; b=2"),
            ]
        },
    ],
)
def test_the_request_is_made_as_quart_makes_it(changes: dict[str, Any]) -> None:
    scope: Any = {
        **scope_of("/items"),
        "query_string": b"q=1",
        "headers": [(b"host", b"localhost:7007"), (b"accept-encoding", b"gzip")],
        **changes,
    }
    app = app_of(Blueprint("made", __name__))

    push: Any = Recorder()  # the send a push promise would go to; never used here
    ours = CancellableHTTPConnection(app, scope)._create_request_from_scope(push)
    quarts = ASGIHTTPConnection(app, scope)._create_request_from_scope(push)

    assert list(ours.headers.items()) == list(quarts.headers.items())
    seen = ("method", "scheme", "path", "root_path", "query_string", "http_version", "host")
    assert [getattr(ours, name) for name in seen] == [getattr(quarts, name) for name in seen]
    assert (ours.remote_addr, ours.content_length) == (quarts.remote_addr, quarts.content_length)
