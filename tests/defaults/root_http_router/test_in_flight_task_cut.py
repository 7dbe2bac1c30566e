"""A cut request leaves its task as it found it: the cut's cancellation ends in the 503, any
other cancellation goes on, and the task is not left cancelled. On an event loop other than
asyncio the cut uses an anyio cancel scope, with the same outcomes.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import anyio
import pytest
from _support.asgi import Recorder, http_scope, nothing
from _support.polling import eventually

from backstage_runtime.defaults.root_http_router import _in_flight
from backstage_runtime.defaults.root_http_router._in_flight import (
    InFlightMiddleware,
    InFlightRequests,
)
from backstage_runtime.http_toolkit import ErrorResponder
from backstage_runtime.testing import MockRootLogger

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["task", "scope"])
def cut_by(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs with the asyncio task cut and with the anyio scope (as off asyncio)."""
    if request.param == "scope":
        monkeypatch.setattr(_in_flight, "current_asyncio_task", lambda: None)
    return str(request.param)


def middleware(app: Any, requests: InFlightRequests) -> Any:
    return InFlightMiddleware(app, requests, ErrorResponder(MockRootLogger(), include_stack=False))


class Served:
    """Runs the middleware in a task of its own and keeps what that task ended with."""

    def __init__(self, app: Any, requests: InFlightRequests) -> None:
        self.send = Recorder()
        self.cancelling_after: int | None = None
        self.slept_after = False
        self.task = asyncio.ensure_future(self._serve(middleware(app, requests)))

    async def _serve(self, served: Any) -> None:
        await served(http_scope("/api/x/y"), nothing, self.send)
        task = asyncio.current_task()
        assert task is not None
        self.cancelling_after = task.cancelling()
        await asyncio.sleep(0)  # a task left cancelled would fail here
        self.slept_after = True


async def test_a_cut_request_is_answered_and_its_task_goes_on(cut_by: str) -> None:
    started = asyncio.Event()

    async def waits(scope: Any, receive: Any, send: Any) -> None:
        started.set()
        await anyio.sleep_forever()

    requests = InFlightRequests()
    served = Served(waits, requests)
    await started.wait()
    assert requests.cut("Backend is shutting down") == 1
    with anyio.fail_after(5):
        await served.task

    assert served.send.status == 503
    assert (served.cancelling_after, served.slept_after) == (0, True)


async def test_a_request_arriving_after_the_cut_does_not_run_and_its_task_goes_on(
    cut_by: str,
) -> None:
    ran: list[bool] = []

    async def answers(scope: Any, receive: Any, send: Any) -> None:
        ran.append(True)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"late"})

    requests = InFlightRequests()
    requests.cut("Backend is shutting down")
    served = Served(answers, requests)
    with anyio.fail_after(5):
        await served.task

    assert (served.cancelling_after, served.slept_after) == (0, True)
    if cut_by == "task":
        assert (ran, served.send.status) == ([], 503)
    else:  # a cancelled scope only stops an app at its first wait, and this one never waits
        assert (ran, served.send.status) == ([True], 200)


async def test_a_handler_that_swallows_the_cut_still_gets_a_503_and_its_task_goes_on(
    cut_by: str,
) -> None:
    started = asyncio.Event()

    async def swallows(scope: Any, receive: Any, send: Any) -> None:
        started.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)

    requests = InFlightRequests()
    served = Served(swallows, requests)
    await started.wait()
    requests.cut("Backend is shutting down")
    with anyio.fail_after(5):
        await served.task

    assert served.send.status == 503
    assert (served.cancelling_after, served.slept_after) == (0, True)


@pytest.mark.parametrize("also_cut", [False, True])
async def test_cancelling_the_request_from_outside_goes_on_whether_cut_or_not(
    cut_by: str, also_cut: bool
) -> None:
    started = asyncio.Event()

    async def waits(scope: Any, receive: Any, send: Any) -> None:
        started.set()
        await anyio.sleep_forever()

    requests = InFlightRequests()
    served = Served(waits, requests)
    await started.wait()
    served.task.cancel()
    if also_cut:
        requests.cut("Backend is shutting down")
    with anyio.fail_after(5), pytest.raises(asyncio.CancelledError):
        await served.task

    await eventually(lambda: requests.count == 0)
    assert served.send.messages == []
