"""The keep-alive wait of a connection, driven directly: one timer handle serves the waits of a
keep-alive connection, a wait closes the connection only while it lasts, and a worker's
termination closes the idle connections only.
"""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

from backstage_runtime.defaults.root_http_router._keep_alive import (
    IdleConnections,
    KeepAliveTimer,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # asyncio timer handles, as Hypercorn's asyncio worker


async def test_the_waits_of_one_connection_share_one_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    scheduled: list[float] = []
    call_at = loop.call_at

    def counting_call_at(when: float, callback: Any, *args: Any, **kwargs: Any) -> Any:
        scheduled.append(when)
        return call_at(when, callback, *args, **kwargs)

    monkeypatch.setattr(loop, "call_at", counting_call_at)
    closed: list[bool] = []
    timer = KeepAliveTimer(loop, 5, lambda: closed.append(True))
    for _ in range(100):
        timer.idle()
        timer.busy()
    timer.idle()
    timer.stop()
    assert len(scheduled) == 1
    assert closed == []


async def test_a_wait_that_lasts_the_timeout_closes_the_connection_once() -> None:
    closed = anyio.Event()
    calls: list[float] = []

    def close() -> None:
        calls.append(anyio.current_time())
        closed.set()

    timer = KeepAliveTimer(asyncio.get_running_loop(), 0.2, close)
    timer.idle()
    started = anyio.current_time()
    with anyio.fail_after(10):
        await closed.wait()
    assert calls[0] - started >= 0.2
    assert not timer.is_idle
    timer.idle()  # a closed connection waits for nothing
    timer.close_if_idle()
    assert len(calls) == 1


async def test_a_wait_started_later_gets_its_full_timeout_from_the_earlier_timer() -> None:
    closed = anyio.Event()
    calls: list[float] = []

    def close() -> None:
        calls.append(anyio.current_time())
        closed.set()

    timer = KeepAliveTimer(asyncio.get_running_loop(), 0.4, close)
    timer.idle()
    timer.busy()  # the next request came at once; the timer set for the first wait stays
    await anyio.sleep(0.25)  # serving that request
    timer.idle()
    started = anyio.current_time()
    with anyio.fail_after(10):
        await closed.wait()
    assert calls[0] - started >= 0.4


async def test_a_connection_serving_a_request_is_not_closed_by_its_timer() -> None:
    calls: list[bool] = []
    timer = KeepAliveTimer(asyncio.get_running_loop(), 0.1, lambda: calls.append(True))
    timer.idle()
    timer.busy()
    await anyio.sleep(0.3)  # past the timeout while the request is served
    timer.close_if_idle()
    assert calls == []
    timer.stop()


class Worker:
    """Stands for a Hypercorn worker context, the key of its registry."""


async def test_a_worker_terminating_closes_its_idle_connections_only() -> None:
    terminated = asyncio.Event()
    worker = Worker()
    registry = IdleConnections.of(worker, terminated.wait)
    assert IdleConnections.of(worker, terminated.wait) is registry
    loop = asyncio.get_running_loop()
    closed: list[str] = []
    idle_closed = anyio.Event()

    def close_idle() -> None:
        closed.append("idle")
        idle_closed.set()

    idle = KeepAliveTimer(loop, 60, close_idle)
    busy = KeepAliveTimer(loop, 60, lambda: closed.append("busy"))
    for timer in (idle, busy):
        registry.add(timer)
        timer.idle()
    busy.busy()
    terminated.set()
    with anyio.fail_after(10):
        await idle_closed.wait()
    # The registry closes every idle connection in one pass: the busy one was seen by now.
    assert closed == ["idle"]
    busy.stop()
