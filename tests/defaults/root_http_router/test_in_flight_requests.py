"""Waiting for the requests in progress: every waiter returns once the last one ends."""

from __future__ import annotations

import anyio
import pytest
from _support.polling import eventually

from backstage_runtime.defaults.root_http_router._in_flight import InFlightRequests

pytestmark = pytest.mark.anyio


async def test_waiting_with_nothing_in_progress_returns_at_once() -> None:
    with anyio.fail_after(1):
        await InFlightRequests().wait_idle()


async def test_every_waiter_returns_after_the_last_request_ends_and_not_before() -> None:
    requests = InFlightRequests()
    first, second = anyio.CancelScope(), anyio.CancelScope()
    requests.enter(first)
    requests.enter(second)
    returned: list[str] = []

    async def wait(name: str) -> None:
        await requests.wait_idle()
        returned.append(name)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(wait, "a")
            group.start_soon(wait, "b")
            await anyio.wait_all_tasks_blocked()
            requests.exit(first)
            await anyio.wait_all_tasks_blocked()
            assert returned == []
            requests.exit(second)
            await eventually(lambda: sorted(returned) == ["a", "b"])


async def test_a_wait_after_an_earlier_one_ended_waits_again() -> None:
    requests = InFlightRequests()
    scope = anyio.CancelScope()
    requests.enter(scope)
    requests.exit(scope)
    with anyio.fail_after(1):
        await requests.wait_idle()
    returned: list[bool] = []
    again = anyio.CancelScope()
    requests.enter(again)

    async def wait() -> None:
        await requests.wait_idle()
        returned.append(True)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(wait)
            await anyio.wait_all_tasks_blocked()
            assert returned == []
            requests.exit(again)
    assert returned == [True]
