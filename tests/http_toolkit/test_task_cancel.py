"""One cancellation of an asyncio task, told apart from any other by the task's cancel count."""

from __future__ import annotations

import asyncio

import pytest

from backstage_runtime.http_toolkit import TaskCancel, current_asyncio_task

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def cancelled_by(cancel_twice: bool, also_from_outside: bool) -> tuple[bool, int]:
    """Cancel a waiting task through a TaskCancel; what its withdraw said, and the task's
    cancel count afterwards.
    """
    outcome: list[tuple[bool, int]] = []
    waiting = asyncio.Event()

    async def waits() -> None:
        task = asyncio.current_task()
        assert task is not None
        cancel = TaskCancel(task)
        holder.append(cancel)
        try:
            waiting.set()
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            outcome.append((cancel.withdraw(), task.cancelling()))

    holder: list[TaskCancel] = []
    task = asyncio.ensure_future(waits())
    await waiting.wait()
    holder[0].cancel()
    if cancel_twice:
        holder[0].cancel()
    if also_from_outside:
        task.cancel()
    await task
    return outcome[0]


async def test_its_own_cancellation_is_withdrawn_and_leaves_the_count_even() -> None:
    assert await cancelled_by(cancel_twice=False, also_from_outside=False) == (True, 0)


async def test_cancelling_twice_cancels_once() -> None:
    assert await cancelled_by(cancel_twice=True, also_from_outside=False) == (True, 0)


async def test_another_cancellation_is_not_its_own() -> None:
    assert await cancelled_by(cancel_twice=False, also_from_outside=True) == (False, 1)


async def test_from_within_the_task_it_only_notes_the_cancellation() -> None:
    task = current_asyncio_task()
    assert task is not None
    cancel = TaskCancel(task)
    cancel.cancel()
    await asyncio.sleep(0)  # not cancelled

    assert (cancel.called, cancel.withdraw(), task.cancelling()) == (True, False, 0)
