"""Global tasks: one run per interval across every instance sharing the plugin's database.

One loop per plugin serves all of its global tasks. It reads the whole tasks table in one query
(every poll interval: at most 5 s, less for shorter cadences), learns from it when each task is
due on the database clock, and sleeps until the earliest due time or the next poll. Due tasks
are claimed with one conditional ``UPDATE`` per batch; only the instance whose claim changed the
row runs the task. The poll also checks the leases this instance holds: a lease taken away (by
``cancel_task`` or by an instance that found it expired) aborts the local run.

Due times sit in a heap, so that a wake-up costs the same with ten tasks or ten thousand.
"""

from __future__ import annotations

import heapq
import itertools
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

import anyio
from anyio.abc import TaskGroup

from ...api.services.logger import LoggerService
from ._deadlines import Deadlines
from ._invoke import CANCELLED, LEASE_LOST, SHUTTING_DOWN, TaskCall, TaskRun, error_json, invoke
from ._metrics import TaskMetrics
from ._settings import TaskSettings
from ._store import PolledTask, TaskStore

__all__ = ["GlobalTasks", "GlobalWorker", "PollIntervals"]

WorkerStatus = Literal["initial-wait", "idle", "running"]

# Bounds the release of a lease after a run, shielded from cancellation at shutdown.
_RELEASE_TIMEOUT = 10.0
# After a failed database round trip, wait this long before the next attempt.
_RETRY_DELAY = 1.0
# What the listing shows when several workers of one task id exist in this process.
_STATUS_PRIORITY: tuple[WorkerStatus, ...] = ("running", "initial-wait", "idle")
# A lease is claimable strictly after it expires: wake just past that moment.
_EXPIRY_MARGIN = 0.001
# A polled due time this close to the known one is the same time, measured again.
_SAME_TIME = 0.002


@dataclass(frozen=True)
class PollIntervals:
    """How often the table is read: ``min(longest, cadence)`` but never below ``shortest``."""

    longest: float = 5.0
    shortest: float = 0.1

    def for_settings(self, settings: TaskSettings) -> float:
        """The poll interval a task with ``settings`` asks for."""
        cadence = settings.cadence_seconds
        interval = self.longest if not cadence else min(self.longest, cadence)
        return max(interval, self.shortest)


@dataclass(eq=False)
class GlobalWorker:
    """One ``schedule_task`` call of a global task in this process."""

    call: TaskCall
    settings: TaskSettings
    logger: LoggerService
    #: When (``anyio.current_time()``) the initial delay ends.
    ready_at: float
    status: WorkerStatus = "idle"
    run: TaskRun | None = None
    ticket: str | None = None
    stopped: bool = False
    #: Set once the worker has stopped and no run of it is in progress.
    finished: anyio.Event = field(default_factory=anyio.Event)

    @property
    def task_id(self) -> str:
        """The task this worker runs."""
        return self.call.task_id


class GlobalTasks:
    """The loop that claims and runs one plugin's global tasks (see the module docs)."""

    def __init__(
        self,
        store: TaskStore,
        *,
        metrics: TaskMetrics,
        logger: LoggerService,
        intervals: PollIntervals,
        deadlines: Deadlines,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._logger = logger
        self._intervals = intervals
        self._deadlines = deadlines
        self._workers: dict[str, list[GlobalWorker]] = defaultdict(list)
        # Per task: when it can next be claimed (anyio.current_time()); absent when unknown or
        # while this process runs it. The heap holds (time, id) entries, stale ones included:
        # an entry counts only while it matches the dict.
        self._due: dict[str, float] = {}
        self._due_heap: list[tuple[float, str]] = []
        # Workers in their initial delay, by the time it ends.
        self._waiting: list[tuple[float, int, GlobalWorker]] = []
        self._order = itertools.count()
        # Per task: the settings in the database row, which rule its runs (a newer version of
        # the plugin may have re-registered the task with other settings).
        self._row_settings: dict[str, TaskSettings] = {}
        self._parsed: dict[str, TaskSettings] = {}
        self._wake = anyio.Event()
        self._poll_now = True
        self._next_poll_at = 0.0
        self._accepting = True

    # -- registration and control ------------------------------------------------------------------

    def add(self, worker: GlobalWorker, row: PolledTask) -> None:
        """Serve ``worker`` from the next iteration on; ``row`` is its task's row as registered,
        so the loop knows when it is due without reading the table again."""
        now = anyio.current_time()
        self._workers[worker.task_id].append(worker)
        if worker.ready_at > now:
            worker.status = "initial-wait"
            heapq.heappush(self._waiting, (worker.ready_at, next(self._order), worker))
        settings = self._settings_of(row)
        if settings is not None:
            self._row_settings[worker.task_id] = settings
            self._set_due(worker.task_id, _claimable_at(row, now))
        else:
            self._poll_now = True
        self._wake.set()

    def stop_worker(self, worker: GlobalWorker, reason: str) -> None:
        """Run ``worker`` no more; its current run, if any, is aborted."""
        worker.stopped = True
        if worker.run is not None:
            worker.run.abort(reason)
        else:
            self._forget(worker)

    def worker_status(self, task_id: str) -> WorkerStatus | None:
        """The status of this process's worker of ``task_id`` (a running one first)."""
        statuses = {w.status for w in self._workers.get(task_id, ())}
        return next((s for s in _STATUS_PRIORITY if s in statuses), None)

    def nudge(self, task_id: str) -> None:
        """The task was just made due (triggered): try to claim it without waiting for a poll."""
        if task_id in self._workers:
            self._set_due(task_id, anyio.current_time())
            self._wake.set()

    def abort_local_run(self, task_id: str, reason: str) -> None:
        """Abort the run of ``task_id`` in progress here, if any."""
        for worker in self._workers.get(task_id, ()):
            if worker.run is not None:
                worker.run.abort(reason)

    def stop_accepting(self) -> None:
        """Start no further run (the backend is about to stop)."""
        self._accepting = False
        self._wake.set()

    def abort_all(self, reason: str = SHUTTING_DOWN) -> None:
        """Abort every run in progress; their leases are released as each run ends."""
        self.stop_accepting()
        for workers in self._workers.values():
            for worker in workers:
                if worker.run is not None:
                    worker.run.abort(reason)

    # -- the loop ----------------------------------------------------------------------------------

    async def serve(self, group: TaskGroup) -> None:
        """Poll, claim and start runs (in ``group``) until cancelled."""
        while True:
            try:
                await self._iterate(group)
            except Exception as error:
                # A bug rather than a database outage (those are handled where they happen):
                # keep the tasks going, as Backstage's workers do.
                self._logger.warn(f"Task worker failed unexpectedly, {error}", error)
                self._poll_now = True
                await anyio.sleep(_RETRY_DELAY)

    async def _iterate(self, group: TaskGroup) -> None:
        self._wake = anyio.Event()
        self._end_initial_waits(anyio.current_time())
        if self._workers and (self._poll_now or anyio.current_time() >= self._next_poll_at):
            self._poll_now = False
            await self._poll()
        if self._accepting:
            await self._claim_due(group)
        await self._sleep()

    def _set_due(self, task_id: str, due: float | None) -> None:
        if due is None:
            self._due.pop(task_id, None)
            return
        known = self._due.get(task_id)
        if known is not None and abs(known - due) < _SAME_TIME:
            return
        self._due[task_id] = due
        heapq.heappush(self._due_heap, (due, task_id))
        if len(self._due_heap) > 2 * len(self._due) + 64:
            self._due_heap = [(at, task_id) for task_id, at in self._due.items()]
            heapq.heapify(self._due_heap)

    def _end_initial_waits(self, now: float) -> None:
        while self._waiting and self._waiting[0][0] <= now:
            worker = heapq.heappop(self._waiting)[2]
            if worker.status == "initial-wait":
                worker.status = "idle"
                due = self._due.get(worker.task_id)
                if due is not None:  # parked while no worker was free: back in the heap
                    heapq.heappush(self._due_heap, (due, worker.task_id))

    def _earliest_due(self) -> float | None:
        heap = self._due_heap
        while heap and self._due.get(heap[0][1]) != heap[0][0]:
            heapq.heappop(heap)  # stale
        return heap[0][0] if heap else None

    async def _sleep(self) -> None:
        if self._poll_now:
            return
        wake_at = [self._next_poll_at] if self._workers else []
        if self._waiting:
            wake_at.append(self._waiting[0][0])
        due = self._earliest_due() if self._accepting else None
        if due is not None:
            wake_at.append(due)
        delay = max(0.0, min(wake_at) - anyio.current_time()) if wake_at else None
        with anyio.move_on_after(delay):
            await self._wake.wait()

    async def _poll(self) -> None:
        # Only the workers present before the read are judged by it: a task registered while
        # the read was under way may be missing from its result.
        polled = {task_id: list(workers) for task_id, workers in self._workers.items()}
        try:
            rows = {row.id: row for row in await self._store.poll()}
        except Exception as error:
            self._logger.warn(f"Failed to read the state of scheduled tasks, {error}")
            self._next_poll_at = anyio.current_time() + _RETRY_DELAY
            return
        now = anyio.current_time()
        interval = self._intervals.longest
        for task_id, workers in polled.items():
            row = rows.get(task_id)
            settings = None if row is None else self._settings_of(row)
            if row is None or settings is None:
                why = (
                    "it has been unregistered or expired"
                    if row is None
                    else "a newer version of the task has been issued and is handled by others"
                )
                self._logger.info(
                    f'No longer able to handle task "{task_id}"; stopping its worker, assuming '
                    f"that {why}"
                )
                for worker in workers:
                    self.stop_worker(worker, LEASE_LOST)
                continue
            self._row_settings[task_id] = settings
            interval = min(interval, self._intervals.for_settings(settings))
            running_here = False
            for worker in workers:
                if worker.run is None:
                    continue
                running_here = True
                if row.ticket != worker.ticket:
                    worker.logger.info(
                        f'Task ticket for "{task_id}" is no longer valid; aborting execution'
                    )
                    worker.run.abort(LEASE_LOST)
            if not running_here:
                self._set_due(task_id, _claimable_at(row, now))
        self._next_poll_at = now + interval

    def _settings_of(self, row: PolledTask) -> TaskSettings | None:
        cached = self._parsed.get(row.settings_json)
        if cached is None:
            try:
                cached = TaskSettings.loads(row.settings_json)
            except ValueError:
                return None
            self._parsed[row.settings_json] = cached
        return cached

    def _idle_worker(self, task_id: str) -> GlobalWorker | None:
        for worker in self._workers.get(task_id, ()):
            if worker.status == "idle" and not worker.stopped:
                return worker
        return None

    def _take_due(self, now: float) -> dict[float, list[str]]:
        """The due tasks with a free worker, by timeout; taken out of the heap."""
        by_timeout: dict[float, list[str]] = defaultdict(list)
        heap = self._due_heap
        while heap and heap[0][0] <= now:
            due, task_id = heapq.heappop(heap)
            if self._due.get(task_id) != due:
                continue  # stale
            settings = self._row_settings.get(task_id)
            if settings is None or self._idle_worker(task_id) is None:
                # Running here (its release says when it is due next) or in its initial delay
                # (parked: pushed again when the delay ends).
                if not any(w.status == "initial-wait" for w in self._workers.get(task_id, ())):
                    self._due.pop(task_id, None)
                continue
            # Taken: any other heap entry of this task (a duplicate push) is stale from now on.
            del self._due[task_id]
            by_timeout[settings.timeout_seconds].append(task_id)
        return by_timeout

    async def _claim_due(self, group: TaskGroup) -> None:
        for timeout, task_ids in self._take_due(anyio.current_time()).items():
            ticket = str(uuid.uuid4())
            # The local deadline starts before the claim, so it always falls before the lease's
            # expiry in the database: this run stops before anyone else may take the task over.
            deadline = anyio.current_time() + timeout
            try:
                claimed = await self._store.claim(task_ids, ticket, timeout)
            except Exception as error:
                self._logger.warn(f"Failed to claim scheduled tasks, {error}")
                self._poll_now = True
                self._next_poll_at = anyio.current_time() + _RETRY_DELAY
                return
            for task_id in task_ids:
                if task_id not in claimed:
                    self._poll_now = True  # another instance got it: learn its next due time
                    continue
                worker = self._idle_worker(task_id)
                if worker is None or not self._accepting:
                    await self._give_back(task_id, ticket)
                    continue
                run = TaskRun(deadline)
                worker.status, worker.ticket, worker.run = "running", ticket, run
                settings = self._row_settings[task_id]
                group.start_soon(self._run, worker, run, ticket, settings, name=task_id)

    async def _give_back(self, task_id: str, ticket: str) -> None:
        try:
            await self._store.unclaim(task_id, ticket)
        except Exception as error:
            self._logger.warn(f"Failed to give back task {task_id}; its lease expires, {error}")

    async def _run(
        self, worker: GlobalWorker, run: TaskRun, ticket: str, settings: TaskSettings
    ) -> None:
        error: str | None = error_json(SHUTTING_DOWN)
        try:
            error = await invoke(worker.call, run, self._deadlines, self._metrics, worker.logger)
        finally:
            with anyio.move_on_after(_RELEASE_TIMEOUT, shield=True):
                await self._release(worker, settings, ticket, error, run.signal.reason)

    async def _release(
        self,
        worker: GlobalWorker,
        settings: TaskSettings,
        ticket: str,
        error: str | None,
        reason: str | None,
    ) -> None:
        task_id = worker.task_id
        held, due_in = False, None
        try:
            held, due_in = await self._store.release(task_id, ticket, settings, error)
        except Exception as failure:
            worker.logger.warn(
                f"Failed to release task {task_id}; its lease expires by itself, {failure}"
            )
        if not held and reason not in (CANCELLED, LEASE_LOST):
            worker.logger.warn(f"Task {task_id} lost its lease before the run ended")
        worker.status, worker.ticket, worker.run = "idle", None, None
        if worker.stopped:
            self._forget(worker)
        elif held and due_in is not None:
            self._set_due(task_id, anyio.current_time() + due_in)
        else:
            self._poll_now = True
        self._wake.set()

    def _forget(self, worker: GlobalWorker) -> None:
        workers = self._workers.get(worker.task_id)
        if workers is not None and worker in workers:
            workers.remove(worker)
            if not workers:
                del self._workers[worker.task_id]
                self._due.pop(worker.task_id, None)
        worker.finished.set()


def _claimable_at(row: PolledTask, now: float) -> float | None:
    if row.ticket is None:
        return None if row.due_in is None else now + row.due_in
    if row.lease_left is not None and row.due_in is not None:
        # Held by someone: claimable once the lease expires (its holder died, or overran).
        return now + row.lease_left + _EXPIRY_MARGIN
    return None
