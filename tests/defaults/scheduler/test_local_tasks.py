"""Local tasks: every instance runs them, in-process, without the database."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import anyio
import pytest
from _support.polling import eventually
from sqlalchemy import inspect

from backstage_runtime import core_services
from backstage_runtime.api.errors import ConflictError

from ._support import Recorder, plugin_scheduler, scheduler_backend

pytestmark = pytest.mark.anyio


async def test_local_tasks_run_on_every_instance_without_the_database(
    shared: dict[str, Any],
) -> None:
    first, second = Recorder(), Recorder()

    def schedule_with(recorder: Recorder) -> Any:
        async def schedule(scheduler: Any) -> None:
            await scheduler.schedule_task(
                id="cleanup",
                frequency={"milliseconds": 100},
                timeout={"seconds": 5},
                fn=recorder,
                scope="local",
            )

        return schedule

    # Two instances sharing one database: a global task would run on one of them per interval.
    async with (
        scheduler_backend(schedule_with(first), database=shared) as a,
        scheduler_backend(schedule_with(second), database=shared),
    ):
        await eventually(lambda: first.count >= 5 and second.count >= 5)
        database = await a.get_service(core_services.database, "tasks")
        async with database.connect() as conn:
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    assert "backstage_backend_tasks__tasks" not in tables


async def test_a_local_task_sleeps_its_cadence_minus_its_run_time() -> None:
    recorder = Recorder(duration=0.1)
    registered: list[float] = []

    async def schedule(scheduler: Any) -> None:
        await scheduler.schedule_task(
            id="paced", frequency="PT0.3S", timeout="PT5S", fn=recorder, scope="local"
        )
        registered.append(anyio.current_time())

    async with scheduler_backend(schedule):
        await eventually(lambda: recorder.count >= 3)
    assert recorder.starts[0] - registered[0] < 0.1
    starts = recorder.starts
    assert all(0.27 <= b - a <= 0.4 for a, b in pairwise(starts)), starts


async def test_a_local_manual_task_runs_when_triggered_and_can_be_cancelled() -> None:
    manual, heartbeat = Recorder(duration=30), Recorder()

    async def schedule(scheduler: Any) -> None:
        await scheduler.schedule_task(
            id="manual",
            frequency={"trigger": "manual"},
            timeout={"seconds": 60},
            fn=manual,
            scope="local",
        )
        await scheduler.schedule_task(
            id="heartbeat", frequency={"milliseconds": 50}, timeout="PT5S", fn=heartbeat
        )

    async with scheduler_backend(schedule) as backend:
        scheduler = await plugin_scheduler(backend)
        await eventually(lambda: heartbeat.count >= 5)
        assert manual.count == 0
        with pytest.raises(ConflictError, match="Task manual is not running"):
            await scheduler.cancel_task("manual")

        await scheduler.trigger_task("manual")
        await eventually(lambda: manual.count == 1)
        with pytest.raises(ConflictError, match="Task manual is currently running"):
            await scheduler.trigger_task("manual")
        await scheduler.cancel_task("manual")
        await eventually(lambda: len(manual.ends) == 1)
    assert manual.aborted == ["Task was cancelled"]


async def test_a_local_run_times_out() -> None:
    recorder = Recorder(duration=30)

    async def schedule(scheduler: Any) -> None:
        await scheduler.schedule_task(
            id="slow",
            frequency={"minutes": 10},
            timeout={"milliseconds": 200},
            fn=recorder,
            scope="local",
        )

    async with scheduler_backend(schedule) as backend:
        await eventually(lambda: len(recorder.ends) == 1)
        [entry] = await (await plugin_scheduler(backend)).list_tasks()
    assert recorder.aborted == ["Task timed out"]
    assert 0.19 <= recorder.ends[0] - recorder.starts[0] < 1
    state: Any = entry["taskState"]
    assert state["status"] == "idle"
    assert '"message": "Task timed out"' in state["lastRunError"]
