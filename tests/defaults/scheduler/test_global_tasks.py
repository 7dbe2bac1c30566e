"""Global tasks on one instance: cadences, timeouts, failures, restarts, leases, shutdown."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any, Literal

import anyio
import pytest
from _support.polling import eventually
from sqlalchemy import text

from backstage_runtime import core_services
from backstage_runtime.api.errors import ConflictError, NotFoundError

from ._support import Recorder, execute, plugin_scheduler, scheduler_backend, task_row

pytestmark = pytest.mark.anyio


def gaps(starts: list[float]) -> list[float]:
    return [later - earlier for earlier, later in pairwise(starts)]


async def test_an_iso_duration_task_runs_at_once_then_at_its_cadence(
    database: dict[str, Any],
) -> None:
    recorder = Recorder()
    registered: list[float] = []

    async def schedule(scheduler: Any) -> None:
        await scheduler.schedule_task(id="tick", frequency="PT0.3S", timeout="PT5S", fn=recorder)
        registered.append(anyio.current_time())

    async with scheduler_backend(schedule, database=database) as backend:
        await eventually(lambda: recorder.count >= 4, timeout=5)
        row = await task_row(backend, "tick")
    # The first run comes at once, not a cadence later.
    assert recorder.starts[0] - registered[0] < 0.15
    # Fixed rate on the planned time: each run 300 ms after the previous one, give or take.
    assert all(0.25 <= gap <= 0.5 for gap in gaps(recorder.starts)[:3]), gaps(recorder.starts)
    assert json.loads(row["settings_json"]) == {
        "version": 2,
        "cadence": "PT0.3S",
        "timeoutAfterDuration": "PT5S",
    }
    assert row["last_run_error_json"] is None
    assert row["last_run_ended_at"] is not None


async def test_a_six_field_cron_task_runs_on_each_second() -> None:
    recorder = Recorder()

    async def schedule(scheduler: Any) -> None:
        await scheduler.schedule_task(
            id="cron", frequency={"cron": "* * * * * *"}, timeout={"seconds": 5}, fn=stamp
        )

    walls: list[float] = []

    async def stamp(signal: Any) -> None:
        walls.append(time.time())
        await recorder(signal)

    async with scheduler_backend(schedule):
        await eventually(lambda: recorder.count >= 2, timeout=5)
    # Each run starts just after a whole second of the clock, one second after the previous.
    assert all(wall % 1 < 0.3 for wall in walls[:2]), walls
    assert 0.7 <= gaps(recorder.starts)[0] <= 1.3, gaps(recorder.starts)


async def test_a_five_field_cron_task_is_planned_for_its_next_fire_time(
    shared: dict[str, Any],
) -> None:
    async def schedule(scheduler: Any) -> None:
        await scheduler.schedule_task(
            id="five", frequency={"cron": "*/5 * * * *"}, timeout={"minutes": 1}, fn=Recorder()
        )

    before = datetime.now(UTC)
    async with scheduler_backend(schedule, database=shared) as backend:
        row = await task_row(backend, "five")
    planned = row["next_run_start_at"]
    if planned.tzinfo is None:  # MySQL's DATETIME holds UTC without saying so
        planned = planned.replace(tzinfo=UTC)
    assert planned > before
    assert (planned - before).total_seconds() <= 300
    assert (planned.minute % 5, planned.second, planned.microsecond) == (0, 0, 0)
    assert json.loads(row["settings_json"])["cadence"] == "*/5 * * * *"


async def test_a_manual_task_runs_only_when_triggered(database: dict[str, Any]) -> None:
    manual, heartbeat = Recorder(), Recorder()

    async def schedule(scheduler: Any) -> None:
        await scheduler.schedule_task(
            id="manual", frequency={"trigger": "manual"}, timeout={"seconds": 5}, fn=manual
        )
        await scheduler.schedule_task(
            id="heartbeat", frequency={"milliseconds": 50}, timeout={"seconds": 5}, fn=heartbeat
        )

    async with scheduler_backend(schedule, database=database) as backend:
        scheduler = await plugin_scheduler(backend)
        # The scheduler has been through several rounds: the manual task stayed put.
        await eventually(lambda: heartbeat.count >= 5)
        assert manual.count == 0
        assert (await task_row(backend, "manual"))["next_run_start_at"] is None

        await scheduler.trigger_task("manual")
        await eventually(lambda: len(manual.ends) == 1)
        seen = heartbeat.count
        await eventually(lambda: heartbeat.count >= seen + 5)
        assert manual.count == 1
        assert (await task_row(backend, "manual"))["next_run_start_at"] is None
        with pytest.raises(NotFoundError, match="Task nope does not exist"):
            await scheduler.trigger_task("nope")


async def test_a_timed_out_run_is_cancelled_and_the_schedule_goes_on() -> None:
    attempts: list[str | None] = []

    async def slow(signal: Any) -> None:
        try:
            await anyio.sleep_forever()
        finally:
            attempts.append(signal.reason)

    async def schedule(scheduler: Any) -> None:
        await scheduler.schedule_task(
            id="slow", frequency={"milliseconds": 100}, timeout={"milliseconds": 300}, fn=slow
        )

    async with scheduler_backend(schedule) as backend:
        started = anyio.current_time()
        await eventually(lambda: len(attempts) >= 2, timeout=5)
        elapsed = anyio.current_time() - started
        row = await task_row(backend, "slow")
    assert attempts[:2] == ["Task timed out", "Task timed out"]
    assert 0.55 <= elapsed < 2
    assert json.loads(row["last_run_error_json"]) == {"name": "Error", "message": "Task timed out"}
    warnings = [
        e for e in backend.logger.entries if e.message == "Task slow aborted: Task timed out"
    ]
    assert warnings
    assert warnings[0].level == "warn"
    assert warnings[0].fields["task"] == "slow"


async def test_a_thread_sees_the_signal_at_the_timeout() -> None:
    polls: list[int] = []

    def work(signal: Any) -> None:
        count = 0
        while not signal.is_set():  # the thread cannot be cancelled: it checks the signal
            count += 1
            time.sleep(0.01)
        polls.append(count)

    async def in_thread(signal: Any) -> None:
        await anyio.to_thread.run_sync(work, signal)

    async def schedule(scheduler: Any) -> None:
        await scheduler.schedule_task(
            id="thread",
            frequency={"trigger": "manual"},
            timeout={"milliseconds": 200},
            fn=in_thread,
        )

    async with scheduler_backend(schedule) as backend:
        await (await plugin_scheduler(backend)).trigger_task("thread")
        await eventually(lambda: len(polls) == 1)
        await eventually(lambda: _idle(backend, "thread"))
        row = await task_row(backend, "thread")
    assert polls[0] > 5
    assert json.loads(row["last_run_error_json"])["message"] == "Task timed out"


def _idle(backend: Any, task_id: str) -> Any:
    async def check() -> bool:
        row = await task_row(backend, task_id)
        return row["current_run_ticket"] is None and row["last_run_ended_at"] is not None

    return check()


async def test_a_failing_run_is_logged_with_its_id_and_the_schedule_goes_on() -> None:
    recorder = Recorder(fail_on=lambda number: number == 1)

    async def schedule(scheduler: Any) -> None:
        await scheduler.schedule_task(
            id="flaky", frequency={"milliseconds": 200}, timeout={"seconds": 5}, fn=recorder
        )

    async with scheduler_backend(schedule) as backend:
        await eventually(lambda: len(recorder.ends) >= 1)
        await eventually(lambda: _idle(backend, "flaky"))
        failed = await task_row(backend, "flaky")
        await eventually(lambda: len(recorder.ends) >= 2)
        await eventually(lambda: _idle(backend, "flaky"))
        succeeded = await task_row(backend, "flaky")
    assert json.loads(failed["last_run_error_json"]) == {
        "name": "RuntimeError",
        "message": "run 1 failed",
    }
    assert succeeded["last_run_error_json"] is None
    errors = [e for e in backend.logger.entries if e.level == "error"]
    assert [(e.message, e.fields["task"], str(e.error)) for e in errors] == [
        ("Task flaky failed", "flaky", "run 1 failed")
    ]


async def test_a_restart_keeps_the_planned_run_and_picks_up_a_new_schedule(
    shared: dict[str, Any],
) -> None:
    hourly, heartbeat = Recorder(), Recorder()

    def schedule_with(frequency: Any, recorder: Recorder) -> Any:
        async def schedule(scheduler: Any) -> None:
            await scheduler.schedule_task(
                id="report", frequency=frequency, timeout={"seconds": 5}, fn=recorder
            )
            await scheduler.schedule_task(
                id="heartbeat", frequency={"milliseconds": 50}, timeout={"seconds": 5}, fn=heartbeat
            )

        return schedule

    async with scheduler_backend(schedule_with({"hours": 1}, hourly), database=shared) as first:
        await eventually(lambda: len(hourly.ends) == 1)
        await eventually(lambda: _idle(first, "report"))
        planned = (await task_row(first, "report"))["next_run_start_at"]

    # The same schedule again: the run planned an hour ahead stays planned.
    again = Recorder()
    async with scheduler_backend(schedule_with({"hours": 1}, again), database=shared) as second:
        seen = heartbeat.count
        await eventually(lambda: heartbeat.count >= seen + 5)
        assert again.count == 0
        assert (await task_row(second, "report"))["next_run_start_at"] == planned

    # A shorter cadence in code: its first run comes after that cadence, not an hour later.
    faster = Recorder()
    async with scheduler_backend(
        schedule_with({"milliseconds": 300}, faster), database=shared
    ) as third:
        await eventually(lambda: faster.count >= 1, timeout=3)
        settings = json.loads((await task_row(third, "report"))["settings_json"])
    assert settings["cadence"] == "PT0.3S"


async def test_an_expired_lease_of_a_dead_instance_is_taken_over(shared: dict[str, Any]) -> None:
    recorder = Recorder()

    async def schedule(scheduler: Any) -> None:
        await scheduler.schedule_task(
            id="orphaned", frequency={"trigger": "manual"}, timeout={"seconds": 5}, fn=recorder
        )

    # The janitor is slow here: the takeover is the claim's own doing.
    async with scheduler_backend(
        schedule, database=shared, factory_options={"janitor_interval": 60}
    ) as backend:
        # Another instance claimed the task and died: its lease runs out in 400 ms.
        now, expiry = (
            ("UTC_TIMESTAMP(6)", "UTC_TIMESTAMP(6) + INTERVAL 400000 MICROSECOND")
            if shared["client"] == "mysql2"
            else ("now()", "now() + interval '400 milliseconds'")
        )
        await execute(
            backend,
            "UPDATE backstage_backend_tasks__tasks SET current_run_ticket = 'dead', "
            f"current_run_started_at = {now}, next_run_start_at = {now}, "
            f"current_run_expires_at = {expiry} WHERE id = 'orphaned'",
        )
        leased_at = anyio.current_time()
        with pytest.raises(ConflictError, match="Task orphaned is currently running"):
            await (await plugin_scheduler(backend)).trigger_task("orphaned")
        await eventually(lambda: recorder.count == 1, timeout=3)
    assert 0.4 <= recorder.starts[0] - leased_at < 1.5


async def test_the_janitor_frees_expired_leases(database: dict[str, Any]) -> None:
    async def schedule(scheduler: Any) -> None:
        # Creates the tasks table; "gone" is a task no instance schedules any more.
        await scheduler.schedule_task(
            id="other", frequency={"trigger": "manual"}, timeout={"seconds": 5}, fn=Recorder()
        )

    async with scheduler_backend(schedule, database=database) as backend:
        past = "2000-01-01 00:00:00"
        await execute(
            backend,
            "INSERT INTO backstage_backend_tasks__tasks (id, settings_json, next_run_start_at, "
            "current_run_ticket, current_run_started_at, current_run_expires_at) "
            "VALUES ('gone', '{}', :past, 'dead', :past, :past)",
            past=past if database["client"] != "pg" else datetime(2000, 1, 1, tzinfo=UTC),
        )

        async def freed() -> bool:
            return (await task_row(backend, "gone"))["current_run_ticket"] is None

        await eventually(freed, timeout=3)
        row = await task_row(backend, "gone")
    assert json.loads(row["last_run_error_json"]) == {"name": "Error", "message": "Task timed out"}
    assert "Task timed out and was lost: gone" in backend.logger.messages("warn")


async def test_shutdown_cancels_the_run_and_another_instance_takes_the_next_at_once(
    shared: dict[str, Any],
) -> None:
    first, second = Recorder(duration=60), Recorder(duration=60)

    def schedule_with(recorder: Recorder) -> Any:
        async def schedule(scheduler: Any) -> None:
            await scheduler.schedule_task(
                id="long", frequency={"milliseconds": 500}, timeout={"seconds": 30}, fn=recorder
            )

        return schedule

    async with scheduler_backend(schedule_with(first), database=shared) as a:
        await eventually(lambda: first.count == 1)
        async with scheduler_backend(schedule_with(second), database=shared) as b:
            await a.backend.stop()
            stopped = anyio.current_time()
            assert first.aborted == ["Task was cancelled because the backend is shutting down"]
            # Released at shutdown, not left to expire after the 30 s timeout.
            await eventually(lambda: second.count == 1, timeout=5)
            assert second.starts[0] - stopped < 2
            assert first.max_running == 1
            row = await task_row(b, "long")
            assert row["current_run_ticket"] is not None
    assert json.loads(row["last_run_error_json"])["message"].startswith("Task was cancelled")


async def test_no_run_starts_once_the_backend_begins_to_stop() -> None:
    recorder = Recorder()

    async def schedule(scheduler: Any) -> None:
        await scheduler.schedule_task(
            id="often", frequency={"milliseconds": 20}, timeout={"seconds": 5}, fn=recorder
        )

    # The server drains for 500 ms in the before-shutdown phase, 25 cadences of the task.
    config = {"backend": {"lifecycle": {"serverShutdownDelay": {"milliseconds": 500}}}}
    async with scheduler_backend(schedule, config=config) as backend:
        await eventually(lambda: recorder.count >= 3)
        began = anyio.current_time()
        await backend.backend.stop()
        ended = anyio.current_time()
    assert ended - began >= 0.5
    assert max(recorder.starts) < began + 0.05, (began, recorder.starts[-3:])


async def test_tasks_leaving_their_initial_delay_run_once() -> None:
    # Regression: a task that became due as its initial delay ended was claimed twice.
    recorders = [Recorder() for _ in range(30)]
    heartbeat = Recorder()

    async def schedule(scheduler: Any) -> None:
        for number, recorder in enumerate(recorders):
            await scheduler.schedule_task(
                id=f"delayed-{number}",
                frequency={"hours": 1},
                timeout={"seconds": 5},
                initial_delay={"milliseconds": 100},
                fn=recorder,
            )
        await scheduler.schedule_task(
            id="heartbeat", frequency={"milliseconds": 50}, timeout={"seconds": 5}, fn=heartbeat
        )

    async with scheduler_backend(schedule):
        await eventually(lambda: all(r.count >= 1 for r in recorders))
        seen = heartbeat.count
        await eventually(lambda: heartbeat.count >= seen + 5)
    assert [r.count for r in recorders] == [1] * 30


async def test_the_tasks_table_lives_in_the_plugin_schema(test_databases: Any) -> None:
    database = await test_databases.backend_config("POSTGRES", division_mode="schema")
    recorder = Recorder()

    async def schedule(scheduler: Any) -> None:
        await scheduler.schedule_task(
            id="schema", frequency={"milliseconds": 100}, timeout="PT5S", fn=recorder
        )

    async with scheduler_backend(schedule, database=database) as backend:
        await eventually(lambda: recorder.count >= 2)
        plugin_database = await backend.get_service(core_services.database, "tasks")
        async with plugin_database.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT table_schema FROM information_schema.tables "
                    "WHERE table_name = 'backstage_backend_tasks__tasks'"
                )
            )
            schemas = list(result.scalars())
    assert schemas == ["tasks"]


@pytest.mark.parametrize("scope", ["global", "local"])
async def test_a_runner_schedules_and_its_signal_stops_the_task(
    scope: Literal["global", "local"],
) -> None:
    from backstage_runtime.api.services.scheduler import SchedulerServiceTaskScheduleDefinition

    recorder, heartbeat, stop = Recorder(), Recorder(), anyio.Event()

    async def schedule(scheduler: Any) -> None:
        runner = scheduler.create_scheduled_task_runner(
            SchedulerServiceTaskScheduleDefinition(
                frequency={"milliseconds": 30}, timeout="PT5S", scope=scope
            )
        )
        await runner.run(id="stoppable", fn=recorder, signal=stop)
        await scheduler.schedule_task(
            id="heartbeat", frequency={"milliseconds": 50}, timeout="PT5S", fn=heartbeat
        )

    async with scheduler_backend(schedule) as backend:
        await eventually(lambda: recorder.count >= 2)
        stop.set()
        # Once the scheduler has been round once more, nothing starts the task again.
        seen = heartbeat.count
        await eventually(lambda: heartbeat.count >= seen + 1)
        stopped_at = recorder.count
        await eventually(lambda: heartbeat.count >= seen + 6)
        [descriptor, _] = await (await plugin_scheduler(backend)).get_scheduled_tasks()
    assert recorder.count == stopped_at
    assert (descriptor.id, descriptor.scope) == ("stoppable", scope)
    assert descriptor.settings == {
        "version": 2,
        "cadence": "PT0.03S",
        "timeoutAfterDuration": "PT5S",
    }
