"""The scheduler at scale: 1,000 global tasks on one instance with PostgreSQL.

Three phases, each on a fresh backend and database:

1. staggered: 1,000 tasks with a 10 s cadence whose first runs are spread over 10 s (about 100
   runs a second), measured for ``--seconds``;
2. burst: 1,000 tasks (hourly) made due at one instant (the worst case: one claim batch);
3. idle: the same 1,000 tasks afterwards, none due for an hour: the statements the scheduler
   sends per second while nothing is to be done (polls, janitor).

Scheduling latency is the time from a run's planned start (``next_run_start_at``, on the
database clock) to the moment its function is called. In the staggered phase planned starts are
read back from the table after the stop: with a fixed-rate cadence the k-th planned start is the
final ``next_run_start_at`` minus the remaining cadences. Statements are counted with an SQLAlchemy ``before_cursor_execute`` hook on
the plugin's engine. Run:

    python benchmarks/scheduler_scale.py [--tasks 1000] [--seconds 25] [--idle-seconds 10]

PostgreSQL comes from BACKSTAGE_TEST_DATABASE_POSTGRES_CONNECTION_STRING (default: postgres on
127.0.0.1:5432); the benchmark creates its databases and drops them afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from backstage_runtime import core_services, create_backend_plugin
from backstage_runtime.defaults.scheduler import scheduler_service_factory
from backstage_runtime.testing import TestDatabases, start_test_backend

PLUGIN = "bench"


class Runs:
    """Wall-clock start times per task id."""

    def __init__(self) -> None:
        self.starts: dict[str, list[float]] = defaultdict(list)

    def task(self, task_id: str) -> Any:
        async def run() -> None:
            self.starts[task_id].append(time.time())
            await anyio.sleep(0.005)  # a little work that yields

        return run


class StatementCounter:
    """Counts the statements an engine sends."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


@asynccontextmanager
async def backend(database: dict[str, Any], schedule: Any) -> AsyncIterator[Any]:
    def register(env: Any) -> None:
        env.register_init(deps={"scheduler": core_services.scheduler}, init=schedule)

    plugin = create_backend_plugin(plugin_id=PLUGIN, register=register)
    async with start_test_backend(
        features=[scheduler_service_factory(), plugin],
        config={"backend": {"database": database}},
        log_level="warn",
    ) as test:
        yield test


async def planned_latencies(database: dict[str, Any], runs: Runs, cadence: float) -> list[float]:
    """Latency of every run, from the rows' final next_run_start_at (read after the stop)."""
    connection = database["connection"]
    url = (
        f"postgresql+asyncpg://{connection.get('user', 'postgres')}@{connection['host']}:"
        f"{connection['port']}/{database['prefix']}{PLUGIN}"
    )
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT id, next_run_start_at FROM backstage_backend_tasks__tasks")
            )
            final = {row.id: row.next_run_start_at.timestamp() for row in rows}
    finally:
        await engine.dispose()
    latencies: list[float] = []
    for task_id, starts in runs.starts.items():
        for number, start in enumerate(starts):
            planned = final[task_id] - (len(starts) - number) * cadence
            latencies.append(start - planned)
    return latencies


def summary(name: str, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{name:11}{len(ordered):>7} runs   p50 {statistics.median(ordered) * 1000:7.1f} ms   "
        f"p99 {p99 * 1000:7.1f} ms   max {ordered[-1] * 1000:7.1f} ms"
    )


async def staggered(databases: TestDatabases, tasks: int, seconds: float) -> tuple[str, str]:
    database = await databases.backend_config("POSTGRES")
    runs, cadence = Runs(), 10.0

    async def schedule(scheduler: Any) -> None:
        for number in range(tasks):
            await scheduler.schedule_task(
                id=f"task-{number}",
                frequency={"seconds": cadence},
                timeout={"minutes": 1},
                initial_delay={"seconds": 3 + cadence * number / tasks},
                fn=runs.task(f"task-{number}"),
            )

    async with backend(database, schedule) as test:
        engine = await (await test.get_service(core_services.database, PLUGIN)).get_client()
        counter = StatementCounter(engine)
        cpu = time.process_time()
        await anyio.sleep(seconds)
        active = counter.count / seconds
        cpu_share = (time.process_time() - cpu) / seconds
    latencies = await planned_latencies(database, runs, cadence)
    return (
        summary("staggered", latencies),
        f"{active:.0f} statements/s and {cpu_share:.0%} of a core while ~{tasks / cadence:.0f} "
        "runs/s",
    )


async def burst_then_idle(databases: TestDatabases, tasks: int, idle: float) -> tuple[str, float]:
    database = await databases.backend_config("POSTGRES")
    runs = Runs()

    async def schedule(scheduler: Any) -> None:
        for number in range(tasks):
            await scheduler.schedule_task(
                id=f"task-{number}",
                frequency={"hours": 1},
                timeout={"minutes": 1},
                fn=runs.task(f"task-{number}"),
            )

    def ran(times: int) -> bool:
        return len(runs.starts) == tasks and all(len(s) >= times for s in runs.starts.values())

    async with backend(database, schedule) as test:
        plugin_database = await test.get_service(core_services.database, PLUGIN)
        engine = await plugin_database.get_client()
        await until(lambda: ran(1))  # the first runs, as each task was registered
        # Every task due at one instant, a little more than a poll interval ahead.
        async with plugin_database.begin() as conn:
            result = await conn.execute(
                text(
                    "UPDATE backstage_backend_tasks__tasks "
                    "SET next_run_start_at = now() + interval '6 seconds' "
                    "RETURNING next_run_start_at"
                )
            )
            due = result.scalars().first().timestamp()
        await until(lambda: ran(2))
        latencies = [starts[1] - due for starts in runs.starts.values()]
        await anyio.sleep(1)  # let the last releases land
        counter = StatementCounter(engine)
        await anyio.sleep(idle)
        per_second = counter.count / idle
    return summary("burst", latencies), per_second


async def until(condition: Any, timeout: float = 60) -> None:
    with anyio.fail_after(timeout):
        while not condition():  # noqa: ASYNC110 - the runs set no event; poll their record
            await anyio.sleep(0.05)


async def main(tasks: int, seconds: float, idle: float) -> None:
    async with TestDatabases(["POSTGRES"]) as databases:
        staggered_line, active = await staggered(databases, tasks, seconds)
        print(staggered_line, f"  ({active})", flush=True)
        burst_line, per_second = await burst_then_idle(databases, tasks, idle)
        print(burst_line, flush=True)
        print(f"idle       {per_second:.2f} statements/s with {tasks} tasks scheduled, none due")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=25.0)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    arguments = parser.parse_args()
    anyio.run(main, arguments.tasks, arguments.seconds, arguments.idle_seconds)
