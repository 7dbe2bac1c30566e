"""``MockSchedulerService``: Backstage's ``mockServices.scheduler`` in Python.

No timers and no database: each plugin's tasks run once when the plugin starts (unless told
otherwise), then only when a test triggers them::

    scheduler = MockSchedulerService()
    async with start_test_backend(features=[my_plugin, scheduler.factory()]):
        await scheduler.trigger_task("refresh")      # runs it now, and waits for it
        await scheduler.wait_for_task("refresh")     # or wait for the next run to complete
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio

from ..api import (
    LifecycleService,
    PluginMetadataService,
    ServiceFactory,
    core_services,
    create_service_factory,
)
from ..api.errors import ConflictError, NotFoundError
from ..api.services.scheduler import (
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
from ..defaults.scheduler._invoke import CANCELLED, SHUTTING_DOWN, TaskCall, TaskRun
from ..defaults.scheduler._settings import TaskSettings
from ._service_mock import ServiceMock, build_service_mock

__all__ = ["MockScheduler", "MockSchedulerService", "mock_scheduler"]


@dataclass(eq=False)
class _MockTask:
    plugin_id: str
    descriptor: SchedulerServiceTaskDescriptor
    call: TaskCall
    settings: TaskSettings
    runs: list[TaskRun] = field(default_factory=list)


@dataclass(eq=False)
class _Completion:
    done: anyio.Event = field(default_factory=anyio.Event)
    error: BaseException | None = None


class MockSchedulerService:
    """A scheduler for plugin tests, shared by every plugin of a test backend.

    Schedules are checked as the real scheduler checks them (malformed ones raise
    :class:`~backstage_runtime.api.errors.InputError`) but never drive anything.
    """

    def __init__(self) -> None:
        self._tasks: dict[str, _MockTask] = {}
        self._running: set[str] = set()
        self._waiters: dict[str, list[_Completion]] = {}

    def factory(
        self,
        *,
        skip_task_run_on_startup: bool = False,
        include_manual_tasks_on_startup: bool = False,
        include_initial_delayed_tasks_on_startup: bool = False,
    ) -> ServiceFactory[SchedulerService]:
        """A ``core.scheduler`` factory backed by this instance.

        When a plugin starts, each task it scheduled runs once, except manual tasks and tasks
        with an initial delay (unless included), or none with ``skip_task_run_on_startup``. At
        shutdown every run in progress is aborted.
        """

        def factory(
            *, lifecycle: LifecycleService, plugin_metadata: PluginMetadataService
        ) -> _PluginView:
            plugin_id = plugin_metadata.get_id()
            if not skip_task_run_on_startup:

                async def run_on_startup() -> None:
                    await self._trigger_all(
                        plugin_id,
                        manual=include_manual_tasks_on_startup,
                        delayed=include_initial_delayed_tasks_on_startup,
                    )

                lifecycle.add_startup_hook(run_on_startup)
            lifecycle.add_shutdown_hook(self._abort_all)
            return _PluginView(self, plugin_id)

        return create_service_factory(
            service=core_services.scheduler,
            deps={
                "lifecycle": core_services.lifecycle,
                "plugin_metadata": core_services.plugin_metadata,
            },
            factory=factory,
        )

    # -- what tests call -------------------------------------------------------------------------

    async def trigger_task(self, id: str) -> None:
        """Run the task now and return when it ended (its error goes to
        :meth:`wait_for_task`); unknown → ``NotFoundError``, already running → no-op."""
        task = self._tasks.get(id)
        if task is None:
            raise NotFoundError(f"Task {id} does not exist")
        if id in self._running:
            return
        self._running.add(id)
        run = TaskRun(deadline=float("inf"))
        task.runs.append(run)
        error: BaseException | None = None
        try:
            with run.scope:
                await task.call(run.signal)
        except Exception as caught:
            error = caught
        finally:
            self._running.discard(id)
            task.runs.remove(run)
        for waiter in self._waiters.pop(id, []):
            waiter.error = error
            waiter.done.set()

    async def cancel_task(self, id: str) -> None:
        """Abort the task's run; unknown → ``NotFoundError``, not running → ``ConflictError``."""
        task = self._tasks.get(id)
        if task is None:
            raise NotFoundError(f"Task {id} does not exist")
        if not task.runs:
            raise ConflictError(f"Task {id} is not running")
        for run in task.runs:
            run.abort(CANCELLED)

    async def wait_for_task(self, id: str) -> None:
        """Wait until the task's next run ends (it need not be scheduled yet); re-raises the
        error the run ended with."""
        completion = _Completion()
        self._waiters.setdefault(id, []).append(completion)
        await completion.done.wait()
        if completion.error is not None:
            raise completion.error

    async def get_scheduled_tasks(self) -> list[SchedulerServiceTaskDescriptor]:
        """Every task scheduled through this instance, by any plugin."""
        return [task.descriptor for task in self._tasks.values()]

    # -- what the plugins call (through their view) ------------------------------------------------

    def _schedule(
        self,
        plugin_id: str,
        *,
        id: str,
        frequency: TaskFrequency,
        timeout: TaskDuration,
        fn: SchedulerServiceTaskFunction,
        initial_delay: TaskDuration | None,
        scope: TaskScope,
    ) -> None:
        settings = TaskSettings.build(
            frequency=frequency, timeout=timeout, initial_delay=initial_delay
        )
        descriptor = SchedulerServiceTaskDescriptor(id=id, scope=scope, settings=settings.to_json())
        self._tasks[id] = _MockTask(plugin_id, descriptor, TaskCall.of(id, scope, fn), settings)

    async def _trigger_all(self, plugin_id: str, *, manual: bool, delayed: bool) -> None:
        selected = [
            task_id
            for task_id, task in self._tasks.items()
            if task.plugin_id == plugin_id
            and (delayed or task.settings.initial_delay is None)
            and (manual or task.settings.kind != "manual")
        ]
        async with anyio.create_task_group() as group:
            for task_id in selected:
                group.start_soon(self.trigger_task, task_id)

    def _abort_all(self) -> None:
        for task in self._tasks.values():
            for run in task.runs:
                run.abort(SHUTTING_DOWN)


class _PluginView:
    """What one plugin receives: its calls go to the shared mock, tagged with its id."""

    def __init__(self, mock: MockSchedulerService, plugin_id: str) -> None:
        self._mock = mock
        self._plugin_id = plugin_id

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
        """Record the task (``signal`` is ignored: nothing runs on a timer)."""
        self._mock._schedule(
            self._plugin_id,
            id=id,
            frequency=frequency,
            timeout=timeout,
            fn=fn,
            initial_delay=initial_delay,
            scope=scope,
        )

    def create_scheduled_task_runner(
        self, schedule: SchedulerServiceTaskScheduleDefinition
    ) -> SchedulerServiceTaskRunner:
        """A runner recording its tasks with ``schedule``."""
        return _Runner(self, schedule)

    async def trigger_task(self, id: str) -> None:
        """See :meth:`MockSchedulerService.trigger_task`."""
        await self._mock.trigger_task(id)

    async def cancel_task(self, id: str) -> None:
        """See :meth:`MockSchedulerService.cancel_task`."""
        await self._mock.cancel_task(id)

    async def get_scheduled_tasks(self) -> list[SchedulerServiceTaskDescriptor]:
        """See :meth:`MockSchedulerService.get_scheduled_tasks`."""
        return await self._mock.get_scheduled_tasks()


class _Runner:
    def __init__(self, view: _PluginView, schedule: SchedulerServiceTaskScheduleDefinition):
        self._view = view
        self._schedule = schedule

    async def run(
        self,
        *,
        id: str,
        fn: SchedulerServiceTaskFunction,
        signal: TaskAbortSignal | None = None,
    ) -> None:
        """Record ``fn`` under ``id`` with this runner's schedule."""
        s = self._schedule
        await self._view.schedule_task(
            id=id,
            fn=fn,
            frequency=s.frequency,
            timeout=s.timeout,
            initial_delay=s.initial_delay,
            scope=s.scope,
        )


class MockScheduler:
    """``mock_services.scheduler``: ``mock_services.scheduler()`` is a new
    :class:`MockSchedulerService`; ``mock_services.scheduler.factory(...)`` the factory of a new
    one (keep the instance instead when the test needs to trigger tasks)."""

    def __call__(self) -> MockSchedulerService:
        """A new mock scheduler."""
        return MockSchedulerService()

    def factory(self, **options: Any) -> ServiceFactory[SchedulerService]:
        """The ``core.scheduler`` factory of a new mock scheduler (see
        :meth:`MockSchedulerService.factory` for ``options``)."""
        return MockSchedulerService().factory(**options)

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.scheduler`` (``schedule_task``, ``trigger_task`` and the rest)."""
        return build_service_mock(core_services.scheduler, SchedulerService, implementations)


#: ``mock_services.scheduler``.
mock_scheduler = MockScheduler()


def _conforms(view: _PluginView) -> SchedulerService:
    # Lets mypy prove that the plugin view satisfies the SchedulerService protocol.
    return view
