"""Once: one computation shared by every caller; failures cached, cancellation not."""

from __future__ import annotations

import anyio
import pytest

from backstage_runtime.runtime._once import Once

pytestmark = pytest.mark.anyio


class _Build:
    """A computation whose first attempt blocks until cancelled; later attempts succeed."""

    def __init__(self) -> None:
        self.attempts = 0
        self.first_attempt_entered = anyio.Event()

    async def __call__(self) -> str:
        self.attempts += 1
        if self.attempts == 1:
            self.first_attempt_entered.set()
            await anyio.sleep_forever()
        return f"instance from attempt {self.attempts}"


async def test_concurrent_callers_share_one_computation() -> None:
    release = anyio.Event()
    calls = 0

    async def compute() -> object:
        nonlocal calls
        calls += 1
        await release.wait()
        return object()

    once: Once[object] = Once(compute)
    results: list[object] = []

    async def ask() -> None:
        results.append(await once.get())

    async with anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(ask)
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert calls == 1
    assert len(results) == 3
    assert results[0] is results[1] is results[2]


async def test_a_failure_is_cached_for_every_later_caller() -> None:
    calls = 0

    async def compute() -> str:
        nonlocal calls
        calls += 1
        raise ValueError(f"attempt {calls}")

    once: Once[str] = Once(compute)
    for _ in range(2):
        with pytest.raises(ValueError, match="attempt 1"):
            await once.get()
    assert calls == 1


async def test_a_cancelled_first_caller_does_not_poison_the_next_one() -> None:
    build = _Build()
    once: Once[str] = Once(build)
    async with anyio.create_task_group() as group:
        group.start_soon(once.get)
        await build.first_attempt_entered.wait()
        group.cancel_scope.cancel()
    assert await once.get() == "instance from attempt 2"
    assert await once.get() == "instance from attempt 2"
    assert build.attempts == 2


async def test_a_waiter_takes_over_when_the_computing_caller_is_cancelled() -> None:
    build = _Build()
    once: Once[str] = Once(build)
    results: list[str] = []

    async def wait_for_it() -> None:
        results.append(await once.get())

    first_caller = anyio.CancelScope()

    async def first_get() -> None:
        with first_caller:
            await once.get()

    async with anyio.create_task_group() as group:
        group.start_soon(first_get)
        await build.first_attempt_entered.wait()
        group.start_soon(wait_for_it)
        await anyio.wait_all_tasks_blocked()  # the waiter is parked on the running computation
        first_caller.cancel()
    assert results == ["instance from attempt 2"]
    assert build.attempts == 2
