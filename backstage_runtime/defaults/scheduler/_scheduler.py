"""``PluginScheduler``: the ``core.scheduler`` instance one plugin receives."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import anyio
from anyio.abc import TaskGroup

from ...api.errors import BackstageError, InputError, ServiceUnavailableError
from ...api.services._json import JsonObject
from ...api.services.database import DatabaseService
from ...api.services.logger import LoggerService
from ...api.services.scheduler import (
    SchedulerService,
    SchedulerServiceTaskDescriptor,
    SchedulerServiceTaskFunction,
    SchedulerServiceTaskRunner,
    SchedulerServiceTaskScheduleDefinition,
    TaskAbortSignal,
    TaskDuration,
    TaskFrequency,
    TaskScope,
)
from ._deadlines import Deadlines
from ._dialect import format_iso
from ._global import GlobalTasks, GlobalWorker, PollIntervals
from ._invoke import CANCELLED, STOPPED, TaskCall
from ._janitor import run_janitor
from ._local import LocalWorker
from ._metrics import TaskMetrics
from ._settings import TaskSettings
from ._store import StoredTask, TaskStore

__all__ = ["MIGRATIONS", "VERSION_TABLE", "PluginScheduler", "SchedulerOptions"]

#: The scheduler's Alembic scripts, applied to each plugin database that has global tasks.
MIGRATIONS = Path(__file__).parent / "migrations"
#: Where those migrations are recorded: apart from the plugin's own migrations.
VERSION_TABLE = "backstage_backend_tasks__alembic_version"


@dataclass(frozen=True)
class SchedulerOptions:
    """Tuning of the default scheduler; the defaults are Backstage's."""

    #: Seconds between two janitor passes (Backstage: one minute).
    janitor_interval: float = 60.0
    #: How often the tasks table is read.
    poll_intervals: PollIntervals = field(default_factory=PollIntervals)
    #: At most this many scheduler statements use the plugin's connection pool at once.
    database_concurrency: int = 4


@dataclass(frozen=True)
class _Scheduled:
    descriptor: SchedulerServiceTaskDescriptor
    local: LocalWorker | None


class _TaskRunner:
    """``create_scheduled_task_runner``'s result: a schedule waiting for a task."""

    def __init__(
        self, scheduler: PluginScheduler, schedule: SchedulerServiceTaskScheduleDefinition
    ) -> None:
        self._scheduler = scheduler
        self._schedule = schedule

    async def run(
        self,
        *,
        id: str,
        fn: SchedulerServiceTaskFunction,
        signal: TaskAbortSignal | None = None,
    ) -> None:
        """Schedule ``fn`` under ``id`` with this runner's schedule."""
        schedule = self._schedule
        await self._scheduler.schedule_task(
            id=id,
            fn=fn,
            signal=signal,
            frequency=schedule.frequency,
            timeout=schedule.timeout,
            initial_delay=schedule.initial_delay,
            scope=schedule.scope,
        )


class PluginScheduler:
    """One plugin's scheduler (Backstage's ``PluginTaskSchedulerImpl``).

    Its loops and runs live in a task group of their own (:meth:`serve`, a background task of
    the backend). The database is touched only once a global task is scheduled or a task is
    triggered or cancelled by id: a plugin with local tasks only never creates the tasks table.
    """

    def __init__(
        self,
        plugin_id: str,
        *,
        database: DatabaseService,
        logger: LoggerService,
        metrics: TaskMetrics,
        options: SchedulerOptions | None = None,
    ) -> None:
        self._plugin_id = plugin_id
        self._database = database
        self._logger = logger
        self._metrics = metrics
        self._options = options or SchedulerOptions()
        self._store: TaskStore | None = None
        self._store_lock = anyio.Lock()
        self._global: GlobalTasks | None = None
        self._local: dict[str, list[LocalWorker]] = defaultdict(list)
        self._scheduled: list[_Scheduled] = []
        self._deadlines = Deadlines()
        self._group: TaskGroup | None = None
        self._group_ready = anyio.Event()
        self._stop = anyio.Event()
        self._stopped = anyio.Event()
        self._accepting = True

    @property
    def plugin_id(self) -> str:
        """The plugin whose tasks this scheduler runs."""
        return self._plugin_id

    # -- SchedulerService ------------------------------------------------------------------------

    async def schedule_task(
        self,
        *,
        id: str,
        frequency: TaskFrequency,
        timeout: TaskDuration,
        fn: SchedulerServiceTaskFunction,
        initial_delay: TaskDuration | None = None,
        scope: TaskScope = "global",
        signal: TaskAbortSignal | None = None,
    ) -> None:
        """Schedule ``fn`` (see :class:`SchedulerService`)."""
        if not isinstance(id, str) or not id.strip():
            raise InputError(f"{id!r} is not a valid ID, expected non-empty string")
        if scope not in ("global", "local"):
            raise InputError(f"Invalid scope {scope!r} for task {id}, expected global or local")
        settings = TaskSettings.build(
            frequency=frequency, timeout=timeout, initial_delay=initial_delay
        )
        if not self._accepting:
            raise ServiceUnavailableError(
                f"Cannot schedule task {id}: the scheduler of plugin '{self._plugin_id}' has "
                "stopped"
            )
        group = await self._task_group()
        call = TaskCall.of(id, scope, fn)
        logger = self._logger.child({"task": id})
        local: LocalWorker | None = None
        if scope == "global":
            store = await self._task_store()
            try:
                row = await store.register(id, settings)
            except Exception as error:
                raise BackstageError("Failed to persist task", cause=error) from error
            tasks = self._global_tasks(store, group)
            worker = GlobalWorker(
                call, settings, logger, anyio.current_time() + settings.initial_delay_seconds
            )
            tasks.add(worker, row)
            stop: Callable[[], None] = partial(tasks.stop_worker, worker, STOPPED)
        else:
            local = LocalWorker(
                call, settings, metrics=self._metrics, logger=logger, deadlines=self._deadlines
            )
            self._local[id].append(local)
            group.start_soon(local.serve, name=f"scheduler task {self._plugin_id}/{id}")
            stop = partial(local.stop, STOPPED)

        self._logger.info(f"Registered scheduled task: {id}, {settings.dumps()}")
        if signal is not None:
            group.start_soon(_stop_when_set, signal, stop, name=f"scheduler signal {id}")
        descriptor = SchedulerServiceTaskDescriptor(id=id, scope=scope, settings=settings.to_json())
        self._scheduled.append(_Scheduled(descriptor, local))

    def create_scheduled_task_runner(
        self, schedule: SchedulerServiceTaskScheduleDefinition
    ) -> SchedulerServiceTaskRunner:
        """A runner that schedules tasks with ``schedule``."""
        return _TaskRunner(self, schedule)

    async def trigger_task(self, id: str) -> None:
        """Run the task now; a global one through the database, so any instance may run it."""
        local = self._local.get(id)
        if local:
            idle = [worker for worker in local if not worker.running]
            if not idle:
                local[0].trigger()  # raises the ConflictError
            idle[-1].trigger()
            return
        await (await self._task_store()).trigger(id)
        if self._global is not None:
            self._global.nudge(id)

    async def cancel_task(self, id: str) -> None:
        """Abort the task's current run, wherever it runs."""
        local = self._local.get(id)
        if local:
            running = [worker for worker in local if worker.running]
            if not running:
                local[0].cancel()  # raises the ConflictError
            for worker in running:
                worker.cancel()
            return
        await (await self._task_store()).cancel(id)
        if self._global is not None:
            self._global.abort_local_run(id, CANCELLED)

    async def get_scheduled_tasks(self) -> list[SchedulerServiceTaskDescriptor]:
        """The tasks scheduled in this process, in scheduling order."""
        return [entry.descriptor for entry in self._scheduled]

    # -- the HTTP listing --------------------------------------------------------------------------

    async def list_tasks(self) -> list[JsonObject]:
        """Backstage's ``GET /.backstage/scheduler/v1/tasks`` entries."""
        rows: dict[str, StoredTask] = {}
        if self._store is not None and any(e.local is None for e in self._scheduled):
            rows = await self._store.rows()
        entries: list[JsonObject] = []
        for entry in self._scheduled:
            task_id = entry.descriptor.id
            if entry.local is not None:
                task_state: JsonObject | None = entry.local.task_state()
                status: str | None = entry.local.status
            else:
                row = rows.get(task_id)
                task_state = None if row is None else _row_state(row)
                status = None if self._global is None else self._global.worker_status(task_id)
            entries.append(
                {
                    "taskId": task_id,
                    "pluginId": self._plugin_id,
                    "scope": entry.descriptor.scope,
                    "settings": entry.descriptor.settings,
                    "taskState": task_state,
                    "workerState": None if status is None else {"status": status},
                }
            )
        return entries

    # -- life --------------------------------------------------------------------------------------

    async def serve(self) -> None:
        """Host the loops and runs until :meth:`shutdown` (a background task of the backend)."""
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(
                    self._deadlines.serve, name=f"scheduler timeouts {self._plugin_id}"
                )
                self._group = group
                self._group_ready.set()
                await self._stop.wait()
                group.cancel_scope.cancel()
        finally:
            self._group = None
            self._stopped.set()

    def stop_accepting(self) -> None:
        """Start no further run; runs in progress go on (the backend begins to stop)."""
        self._accepting = False
        if self._global is not None:
            self._global.stop_accepting()
        for workers in self._local.values():
            for worker in workers:
                worker.stop_starting()

    async def shutdown(self) -> None:
        """Abort the runs in progress, release their leases so that another instance can take
        the next run at once, and end the loops."""
        self.stop_accepting()
        if self._global is not None:
            self._global.abort_all()
        for workers in self._local.values():
            for worker in workers:
                worker.stop()
        self._stop.set()
        if self._group_ready.is_set():
            # Runs release their leases shielded from this cancellation, then the group ends.
            await self._stopped.wait()

    async def _task_group(self) -> TaskGroup:
        if self._stop.is_set():
            raise ServiceUnavailableError(
                f"The scheduler of plugin '{self._plugin_id}' has stopped"
            )
        await self._group_ready.wait()
        if self._group is None:
            raise ServiceUnavailableError(
                f"The scheduler of plugin '{self._plugin_id}' has stopped"
            )
        return self._group

    async def _task_store(self) -> TaskStore:
        if self._store is None:
            async with self._store_lock:
                if self._store is None:
                    engine = await self._database.get_client()
                    await self._database.migrate(MIGRATIONS, version_table=VERSION_TABLE)
                    store = TaskStore(engine, concurrency=self._options.database_concurrency)
                    await store.sync_clock()
                    group = await self._task_group()
                    group.start_soon(
                        run_janitor,
                        store,
                        self._logger,
                        self._options.janitor_interval,
                        name=f"scheduler janitor {self._plugin_id}",
                    )
                    self._store = store
        return self._store

    def _global_tasks(self, store: TaskStore, group: TaskGroup) -> GlobalTasks:
        if self._global is None:
            self._global = GlobalTasks(
                store,
                metrics=self._metrics,
                logger=self._logger,
                intervals=self._options.poll_intervals,
                deadlines=self._deadlines,
            )
            if not self._accepting:
                self._global.stop_accepting()
            group.start_soon(self._global.serve, group, name=f"scheduler {self._plugin_id}")
        return self._global


async def _stop_when_set(signal: TaskAbortSignal, stop: Callable[[], None]) -> None:
    await signal.wait()
    stop()


def _row_state(row: StoredTask) -> JsonObject:
    state: JsonObject
    if row.current_run_started_at is not None:
        state = {"status": "running", "startedAt": format_iso(row.current_run_started_at)}
        if row.current_run_expires_at is not None:
            state["timesOutAt"] = format_iso(row.current_run_expires_at)
    else:
        state = {"status": "idle"}
        if row.next_run_start_at is not None:
            state["startsAt"] = format_iso(row.next_run_start_at)
    if row.last_run_ended_at is not None:
        state["lastRunEndedAt"] = format_iso(row.last_run_ended_at)
    if row.last_run_error_json:
        state["lastRunError"] = row.last_run_error_json
    return state


def _conforms(scheduler: PluginScheduler) -> SchedulerService:
    # Lets mypy prove that PluginScheduler satisfies the SchedulerService protocol.
    return scheduler
