"""Local tasks: run in this process only, with no coordination through the database.

A duration task runs at once (after its initial delay), then sleeps ``cadence - run time``; a cron
task runs at each fire time; a manual task runs only when triggered. Runs of one worker never
overlap. Backstage runs local cron tasks once at registration too, and loops on local manual
tasks; neither is reproduced here.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Literal

import anyio

from ...api.errors import ConflictError
from ...api.services._json import JsonObject
from ...api.services.logger import LoggerService
from ._cron import next_fire_time
from ._deadlines import Deadlines
from ._dialect import format_iso
from ._invoke import CANCELLED, SHUTTING_DOWN, TaskCall, TaskRun, invoke
from ._metrics import TaskMetrics
from ._settings import TaskSettings

__all__ = ["LocalWorker"]

WorkerStatus = Literal["initial-wait", "idle", "running"]


class LocalWorker:
    """One local task's loop; :meth:`serve` runs it until stopped."""

    def __init__(
        self,
        call: TaskCall,
        settings: TaskSettings,
        *,
        metrics: TaskMetrics,
        logger: LoggerService,
        deadlines: Deadlines,
    ) -> None:
        self.call = call
        self.settings = settings
        self._metrics = metrics
        self._logger = logger
        self._deadlines = deadlines
        self.status: WorkerStatus = "idle"
        self._run: TaskRun | None = None
        self._wake = anyio.Event()
        self._stopped = False
        self._started_at: str | None = None
        self._times_out_at: str | None = None
        self._starts_at: str | None = None
        self._last_ended_at: str | None = None
        self._last_error: str | None = None

    @property
    def task_id(self) -> str:
        """The task this worker runs."""
        return self.call.task_id

    def task_state(self) -> JsonObject:
        """Backstage's ``taskState`` of this task, from memory."""
        state: JsonObject
        if self._run is not None:
            state = {"status": "running", "startedAt": self._started_at}
            if self._times_out_at is not None:
                state["timesOutAt"] = self._times_out_at
        else:
            state = {"status": "idle"}
            if self._starts_at is not None:
                state["startsAt"] = self._starts_at
        if self._last_ended_at is not None:
            state["lastRunEndedAt"] = self._last_ended_at
        if self._last_error is not None:
            state["lastRunError"] = self._last_error
        return state

    def trigger(self) -> None:
        """Run now; :class:`ConflictError` while a run is in progress."""
        if self._run is not None:
            raise ConflictError(f"Task {self.task_id} is currently running")
        self._wake.set()

    def cancel(self) -> None:
        """Abort the run in progress; :class:`ConflictError` when there is none."""
        if self._run is None:
            raise ConflictError(f"Task {self.task_id} is not running")
        self._run.abort(CANCELLED)

    def stop_starting(self) -> None:
        """Start no further run; the current one goes on (the backend is about to stop)."""
        self._stopped = True
        self._wake.set()

    def stop(self, reason: str = SHUTTING_DOWN) -> None:
        """Start no further run and abort the current one."""
        self._stopped = True
        if self._run is not None:
            self._run.abort(reason)
        self._wake.set()

    @property
    def running(self) -> bool:
        """Whether a run is in progress."""
        return self._run is not None

    async def serve(self) -> None:
        """Run the task on its cadence until :meth:`stop`."""
        while True:
            try:
                await self._loop()
                return
            except Exception as error:
                # A bug rather than the task failing (that is caught and recorded per run).
                self._logger.warn(f"Task worker failed unexpectedly, {error}", error)
                await anyio.sleep(1.0)

    async def _loop(self) -> None:
        delay = self.settings.initial_delay_seconds
        if delay > 0:
            self.status = "initial-wait"
            await self._sleep(delay)
        elif self.settings.kind != "duration":
            await self._sleep(self._seconds_to_next(0.0))
        while not self._stopped:
            started = anyio.current_time()
            await self._run_once()
            if self._stopped:
                break
            await self._sleep(self._seconds_to_next(anyio.current_time() - started))

    async def _run_once(self) -> None:
        timeout = self.settings.timeout_seconds
        run = self._run = TaskRun(timeout=timeout)
        now = datetime.now(UTC)
        self._started_at = format_iso(now)
        self._times_out_at = format_iso(now + timedelta(seconds=timeout))
        self.status = "running"
        try:
            error = await invoke(self.call, run, self._deadlines, self._metrics, self._logger)
        finally:
            self._run = None
            self.status = "idle"
        self._last_ended_at = format_iso(datetime.now(UTC))
        self._last_error = error

    def _seconds_to_next(self, last_run_seconds: float) -> float:
        kind = self.settings.kind
        if kind == "manual":
            return math.inf
        if kind == "cron":
            now = datetime.now(UTC)
            return (next_fire_time(self.settings.cadence, now) - now).total_seconds()
        return max(0.0, (self.settings.cadence_seconds or 0.0) - last_run_seconds)

    async def _sleep(self, seconds: float) -> None:
        if self._stopped:
            return
        if math.isfinite(seconds):
            self._starts_at = format_iso(datetime.now(UTC) + timedelta(seconds=seconds))
        else:
            self._starts_at = None
        if self.status != "initial-wait":
            self.status = "idle"
        self._wake = anyio.Event()
        with anyio.move_on_after(seconds):
            await self._wake.wait()
        self.status = "idle"
