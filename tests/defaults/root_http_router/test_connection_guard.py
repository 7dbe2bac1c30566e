"""The per-connection timers of Node's HTTP server, driven directly: one timer serves the
requests of a keep-alive connection, and each request still gets its own full limits.
"""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

from backstage_runtime.defaults.root_http_router._connection_guard import ConnectionGuard
from backstage_runtime.defaults.root_http_router._server_limits import ServerLimits

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the guard uses asyncio timer handles, as Hypercorn's asyncio worker


def serve_one_request(guard: ConnectionGuard) -> None:
    """What the protocol tells the guard about one quick request and its response."""
    guard.received()
    guard.head_complete()
    guard.body_complete()
    guard.wrote(100)
    guard.next_request(pending=False)


async def test_requests_on_one_connection_share_one_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    scheduled: list[float] = []
    call_at = loop.call_at

    def counting_call_at(when: float, callback: Any, *args: Any, **kwargs: Any) -> Any:
        scheduled.append(when)
        return call_at(when, callback, *args, **kwargs)

    monkeypatch.setattr(loop, "call_at", counting_call_at)
    guard = ConnectionGuard(ServerLimits(headers_timeout=60, request_timeout=300), lambda _: None)
    for _ in range(100):
        serve_one_request(guard)
    guard.stop()
    assert len(scheduled) == 1


async def test_a_later_request_gets_its_full_head_timeout_from_its_own_first_byte() -> None:
    expired = anyio.Event()
    outcome: list[tuple[bool, float]] = []

    def expire(respond: bool) -> None:
        outcome.append((respond, anyio.current_time()))
        expired.set()

    guard = ConnectionGuard(ServerLimits(headers_timeout=0.4, request_timeout=None), expire)
    serve_one_request(guard)
    # The connection's timer was set for the first request; the next one starts later, so
    # that timer fires before the new deadline and must not cut the request.
    await anyio.sleep(0.25)  # the client's pause between its requests
    started = anyio.current_time()
    guard.received()  # the first byte of a head that never completes
    with anyio.fail_after(10):
        await expired.wait()
    respond, at = outcome[0]
    assert at - started >= 0.4
    assert respond is False  # a response was written on this socket: Node sends no 408


async def test_a_complete_request_is_not_cut_by_the_timer_of_its_head() -> None:
    expired: list[bool] = []
    guard = ConnectionGuard(ServerLimits(headers_timeout=0.2, request_timeout=None), expired.append)
    guard.received()
    guard.head_complete()
    guard.body_complete()
    await anyio.sleep(0.4)  # past the head timeout while the handler still runs
    assert expired == []
    guard.stop()


async def test_a_body_slower_than_the_request_timeout_expires_after_the_head_completed() -> None:
    expired = anyio.Event()
    outcome: list[bool] = []

    def expire(respond: bool) -> None:
        outcome.append(respond)
        expired.set()

    guard = ConnectionGuard(ServerLimits(headers_timeout=0.1, request_timeout=0.3), expire)
    started = anyio.current_time()
    guard.received()
    guard.head_complete()  # the body never completes
    with anyio.fail_after(10):
        await expired.wait()
    assert anyio.current_time() - started >= 0.3
    assert outcome == [True]  # nothing written yet: Node's 408
