"""``MockSchedulerService``: tasks run at plugin startup and when triggered, never on a timer."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from _support.polling import eventually

from backstage_runtime.api.errors import ConflictError, InputError, NotFoundError
from backstage_runtime.testing import start_test_backend
from backstage_runtime.testing._scheduler import MockScheduler, MockSchedulerService

from ._support import Recorder, scheduler_plugin

pytestmark = pytest.mark.anyio


def four_tasks(runs: dict[str, Recorder]) -> Any:
    async def schedule(scheduler: Any) -> None:
        await scheduler.schedule_task(
            id="every", frequency={"minutes": 1}, timeout={"minutes": 1}, fn=runs["every"]
        )
        await scheduler.schedule_task(
            id="local", frequency="PT1M", timeout="PT1M", fn=runs["local"], scope="local"
        )
        await scheduler.schedule_task(
            id="manual", frequency={"trigger": "manual"}, timeout="PT1M", fn=runs["manual"]
        )
        runner = scheduler.create_scheduled_task_runner(
            _definition(frequency="PT1M", timeout="PT1M", initial_delay="PT1M")
        )
        await runner.run(id="delayed", fn=runs["delayed"])

    return schedule


def _definition(**kwargs: Any) -> Any:
    from backstage_runtime.api.services.scheduler import SchedulerServiceTaskScheduleDefinition

    return SchedulerServiceTaskScheduleDefinition(**kwargs)


async def test_tasks_run_once_at_startup_then_only_when_triggered() -> None:
    runs = {name: Recorder() for name in ("every", "local", "manual", "delayed")}
    scheduler = MockSchedulerService()
    async with start_test_backend(
        features=[scheduler.factory(), scheduler_plugin("p", four_tasks(runs))]
    ):
        assert {name: r.count for name, r in runs.items()} == {
            "every": 1,
            "local": 1,
            "manual": 0,
            "delayed": 0,
        }
        await scheduler.trigger_task("manual")
        assert runs["manual"].count == 1
        with pytest.raises(NotFoundError, match="Task nope does not exist"):
            await scheduler.trigger_task("nope")
        assert [t.id for t in await scheduler.get_scheduled_tasks()] == [
            "every",
            "local",
            "manual",
            "delayed",
        ]
    assert runs["every"].count == 1


async def test_startup_options_choose_what_runs() -> None:
    runs = {name: Recorder() for name in ("every", "local", "manual", "delayed")}
    scheduler = MockSchedulerService()
    factory = scheduler.factory(
        include_manual_tasks_on_startup=True, include_initial_delayed_tasks_on_startup=True
    )
    async with start_test_backend(features=[factory, scheduler_plugin("p", four_tasks(runs))]):
        assert all(r.count == 1 for r in runs.values())

    skipped = {name: Recorder() for name in ("every", "local", "manual", "delayed")}
    plugin = scheduler_plugin("p", four_tasks(skipped))
    async with start_test_backend(
        features=[MockScheduler().factory(skip_task_run_on_startup=True), plugin]
    ):
        assert all(r.count == 0 for r in skipped.values())


async def test_wait_cancel_and_errors() -> None:
    release = anyio.Event()
    aborted: list[str | None] = []

    async def blocking(signal: Any) -> None:
        try:
            await release.wait()
        finally:
            aborted.append(signal.reason)

    async def failing() -> None:
        raise RuntimeError("boom")

    async def schedule(scheduler: Any) -> None:
        await scheduler.schedule_task(
            id="blocking", frequency={"trigger": "manual"}, timeout="PT1M", fn=blocking
        )
        await scheduler.schedule_task(
            id="failing", frequency={"trigger": "manual"}, timeout="PT1M", fn=failing
        )
        with pytest.raises(InputError):
            await scheduler.schedule_task(id="bad", frequency="soon", timeout="PT1M", fn=failing)

    scheduler = MockSchedulerService()
    async with (
        start_test_backend(features=[scheduler.factory(), scheduler_plugin("p", schedule)]),
        anyio.create_task_group() as group,
    ):
        with pytest.raises(ConflictError, match="Task blocking is not running"):
            await scheduler.cancel_task("blocking")
        group.start_soon(scheduler.trigger_task, "blocking")
        await eventually(lambda: scheduler._running == {"blocking"})
        await scheduler.trigger_task("blocking")  # already running: ignored
        await scheduler.cancel_task("blocking")
        await eventually(lambda: aborted == ["Task was cancelled"])

        errors: list[str] = []

        async def wait() -> None:
            try:
                await scheduler.wait_for_task("failing")
            except RuntimeError as error:
                errors.append(str(error))

        group.start_soon(wait)
        await eventually(lambda: "failing" in scheduler._waiters)
        await scheduler.trigger_task("failing")  # does not raise: the waiter gets the error
        await eventually(lambda: errors == ["boom"])
