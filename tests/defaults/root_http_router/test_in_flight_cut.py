"""Cutting the requests that outlast the drain: 503 when nothing was answered yet, nothing more
once the response started, and nothing a left-behind handler sends afterwards.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from _support.asgi import Recorder, http_scope, nothing
from _support.polling import eventually
from quart import Blueprint

from backstage_runtime.defaults.root_http_router._in_flight import (
    InFlightMiddleware,
    InFlightRequests,
)
from backstage_runtime.http_toolkit import ErrorResponder
from backstage_runtime.http_toolkit._quart_mount import build_quart_app
from backstage_runtime.testing import MockRootLogger

pytestmark = pytest.mark.anyio


def middleware(app: Any, requests: InFlightRequests) -> Any:
    return InFlightMiddleware(app, requests, ErrorResponder(MockRootLogger(), include_stack=False))


async def never_answers(scope: Any, receive: Any, send: Any) -> None:
    await anyio.sleep_forever()


async def starts_then_hangs(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await anyio.sleep_forever()


async def serve_then_cut(app: Any) -> tuple[Recorder, InFlightRequests, int]:
    requests = InFlightRequests()
    send = Recorder()
    async with anyio.create_task_group() as group:
        group.start_soon(middleware(app, requests), http_scope("/api/x/y"), nothing, send)
        await eventually(lambda: requests.count == 1)
        cut = requests.cut("Backend is shutting down; the request did not finish within 3s")
        with anyio.fail_after(5):
            await requests.wait_idle()
    return send, requests, cut


async def test_a_request_cut_before_its_response_started_gets_a_503_error_body() -> None:
    send, requests, cut = await serve_then_cut(never_answers)

    assert (cut, requests.count) == (1, 0)
    assert send.status == 503
    assert json.loads(send.body) == {
        "error": {
            "name": "ServiceUnavailableError",
            "message": "Backend is shutting down; the request did not finish within 3s",
        },
        "request": {"method": "GET", "url": "/api/x/y"},
        "response": {"statusCode": 503},
    }


async def test_a_request_cut_after_its_response_started_is_only_ended() -> None:
    send, _requests, _cut = await serve_then_cut(starts_then_hangs)

    assert [m["type"] for m in send.messages] == ["http.response.start"]
    assert send.status == 200


async def test_a_request_arriving_after_the_cut_is_answered_503_at_once() -> None:
    requests = InFlightRequests()
    requests.cut("Backend is shutting down")
    send = Recorder()

    with anyio.fail_after(5):
        await middleware(never_answers, requests)(http_scope("/late"), nothing, send)

    assert send.status == 503


async def test_what_a_left_behind_handler_sends_after_the_cut_is_dropped() -> None:
    requests = InFlightRequests()
    send = Recorder()
    late: list[Any] = []

    async def leaves_a_task(scope: Any, receive: Any, inner_send: Any) -> None:
        late.append(inner_send)
        await anyio.sleep_forever()

    async with anyio.create_task_group() as group:
        group.start_soon(middleware(leaves_a_task, requests), http_scope("/x"), nothing, send)
        await eventually(lambda: requests.count == 1)
        requests.cut("Backend is shutting down")
    await late[0]({"type": "http.response.start", "status": 200, "headers": []})

    assert [m["status"] for m in send.messages if "status" in m] == [503]


async def test_a_cut_quart_route_is_cancelled_not_left_running() -> None:
    events: list[str] = []
    routes = Blueprint("stuck", __name__)

    @routes.get("/stuck")
    async def stuck() -> str:
        events.append("started")
        try:
            await anyio.sleep_forever()
        finally:
            events.append("cancelled")
        return "never"  # pragma: no cover

    responder = ErrorResponder(MockRootLogger(), include_stack=False)
    app = build_quart_app("stuck", [routes], responder, relative_urls=True)
    requests = InFlightRequests()
    send = Recorder()
    scope = {**http_scope("/stuck"), "scheme": "http", "client": ("127.0.0.1", 1)}
    bodies = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        # The body once, then nothing until the client goes away (it does not, here).
        if bodies:
            return bodies.pop()
        await anyio.sleep_forever()
        raise AssertionError  # pragma: no cover

    async with anyio.create_task_group() as group:
        group.start_soon(middleware(app, requests), scope, receive, send)
        await eventually(lambda: events == ["started"])
        requests.cut("Backend is shutting down")

    await eventually(lambda: events == ["started", "cancelled"])
    assert send.status == 503
