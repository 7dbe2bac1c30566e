"""``core.scheduler``: a plugin's recurring tasks, coordinated across instances.

Backstage's ``SchedulerService`` in Python::

    async def refresh(signal: TaskAbortSignal) -> None:
        async for page in fetch_pages():  # cancelled at the timeout or at shutdown
            await store(page)

    await scheduler.schedule_task(
        id="refresh-entities",
        frequency={"minutes": 30},  # or "PT30M", {"cron": "*/30 * * * *"}, {"trigger": "manual"}
        timeout={"minutes": 3},
        fn=refresh,
    )

A ``global`` task (the default) runs on one instance per interval, however many instances share
the plugin's database; a ``local`` task runs on every instance, never overlapping itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, Protocol, TypeAlias

from ..._public import publish_lazy_module
from .._durations import parse_duration
from ..errors import ConfigError
from ._json import JsonObject
from .config import Config

__all__ = [
    "SchedulerService",
    "SchedulerServiceTaskDescriptor",
    "SchedulerServiceTaskFunction",
    "SchedulerServiceTaskRunner",
    "SchedulerServiceTaskScheduleDefinition",
    "TaskAbortSignal",
    "TaskDuration",
    "TaskFrequency",
    "TaskScope",
    "read_scheduler_service_task_schedule_definition_from_config",
]

#: A duration: a :class:`~datetime.timedelta`, an object of units (``{"minutes": 10}``, Backstage's
#: ``HumanDuration``), an ISO-8601 string (``"PT10M"``) or an ``ms``-style string (``"10m"``).
TaskDuration: TypeAlias = timedelta | Mapping[str, float] | str

#: How often a task runs: a :data:`TaskDuration`, ``{"cron": "<5 or 6 fields>"}`` (6 fields: the
#: first is seconds; evaluated in UTC) or ``{"trigger": "manual"}`` (only when triggered).
TaskFrequency: TypeAlias = TaskDuration | Mapping[str, str]

#: ``global``: one run per interval across every instance; ``local``: every instance runs it.
TaskScope = Literal["global", "local"]


class TaskAbortSignal(Protocol):
    """Tells a running task to stop: set at its timeout, when it is cancelled, when its lease is
    lost, and at shutdown.

    Async code rarely needs it: the run is also cancelled (it executes in an anyio cancel scope),
    so the next ``await`` raises the cancellation. Work in a thread cannot be cancelled that way
    and should check :meth:`is_set` between steps. An :class:`anyio.Event` fits this protocol, so
    one can be passed as ``signal=`` to stop a task's recurring execution.
    """

    def is_set(self) -> bool:
        """Whether the task has been told to stop."""

    async def wait(self) -> None:
        """Return once the task has been told to stop."""


#: The function of a task: ``async def fn(signal: TaskAbortSignal) -> None`` or
#: ``async def fn() -> None`` (a plain function is accepted too, and runs in the event loop).
SchedulerServiceTaskFunction: TypeAlias = Callable[..., Awaitable[None] | None]


@dataclass(frozen=True)
class SchedulerServiceTaskScheduleDefinition:
    """When and how a task runs (Backstage's ``SchedulerServiceTaskScheduleDefinition``).

    ``timeout`` bounds one run: the run is cancelled then and, for global tasks, its lease expires
    so that another instance may run the task. ``initial_delay`` is waited per instance before its
    first run.
    """

    frequency: TaskFrequency
    timeout: TaskDuration
    initial_delay: TaskDuration | None = None
    scope: TaskScope = "global"


@dataclass(frozen=True)
class SchedulerServiceTaskDescriptor:
    """A task scheduled in this process: its id, scope and the settings persisted for it
    (``{"version": 2, "cadence", "timeoutAfterDuration", "initialDelayDuration"?}``)."""

    id: str
    scope: TaskScope
    settings: JsonObject = field(default_factory=dict)


class SchedulerServiceTaskRunner(Protocol):
    """A schedule waiting for its task: ``await runner.run(id="refresh", fn=refresh)``."""

    async def run(
        self,
        *,
        id: str,
        fn: SchedulerServiceTaskFunction,
        signal: TaskAbortSignal | None = None,
    ) -> None:
        """Schedule ``fn`` under ``id`` with this runner's schedule."""


class SchedulerService(Protocol):
    """Schedules a plugin's recurring tasks (each plugin has its own tasks and task ids)."""

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
        """Run ``fn`` under ``id`` at ``frequency``; once ``signal`` is set it is not run again.

        A run that raises is logged with the task id; the schedule goes on. Raises
        :class:`~backstage_runtime.api.errors.InputError` for an empty id or a malformed frequency
        or duration.
        """

    def create_scheduled_task_runner(
        self, schedule: SchedulerServiceTaskScheduleDefinition
    ) -> SchedulerServiceTaskRunner:
        """A runner that schedules tasks with ``schedule`` (outer code chooses when, inner code
        what)."""

    async def trigger_task(self, id: str) -> None:
        """Run the task as soon as possible.

        Raises :class:`~backstage_runtime.api.errors.NotFoundError` for an unknown task and
        :class:`~backstage_runtime.api.errors.ConflictError` while it is running. A global task
        can be triggered from any instance, even one that did not schedule it.
        """

    async def cancel_task(self, id: str) -> None:
        """Stop the task's current run.

        Raises :class:`~backstage_runtime.api.errors.NotFoundError` for an unknown task and
        :class:`~backstage_runtime.api.errors.ConflictError` when it is not running.
        """

    async def get_scheduled_tasks(self) -> list[SchedulerServiceTaskDescriptor]:
        """The tasks scheduled in this process (not those only other instances scheduled)."""


def read_scheduler_service_task_schedule_definition_from_config(
    config: Config,
) -> SchedulerServiceTaskScheduleDefinition:
    """Read a schedule from the config object ``config`` (not the root config), as Backstage's
    ``readSchedulerServiceTaskScheduleDefinitionFromConfig`` does::

        schedule:
          frequency: {cron: '0 3 * * *'}   # or PT30M, '30m', {minutes: 30}, {trigger: manual}
          timeout: {minutes: 10}
          initialDelay: PT1M              # optional
          scope: local                    # optional: global (default) or local

    Raises :class:`~backstage_runtime.api.errors.ConfigError` naming the key at fault.
    """
    frequency = _read_frequency(config)
    timeout = _read_duration(config, "timeout")
    initial_delay = _read_duration(config, "initialDelay") if config.has("initialDelay") else None
    scope = config.get_optional_string("scope") or "global"
    if scope not in ("global", "local"):
        raise ConfigError(
            f'Only "global" or "local" are allowed for TaskScheduleDefinition.scope, but got: '
            f"{scope}"
        )
    return SchedulerServiceTaskScheduleDefinition(
        frequency=frequency,
        timeout=timeout,
        initial_delay=initial_delay,
        scope="local" if scope == "local" else "global",
    )


def _read_frequency(config: Config) -> TaskFrequency:
    value = config.get("frequency")
    if isinstance(value, dict):
        if "cron" in value:
            return {"cron": config.get_string("frequency.cron")}
        if "trigger" in value:
            trigger = config.get_string("frequency.trigger")
            if trigger != "manual":
                raise ConfigError(
                    f"Invalid frequency.trigger '{trigger}' in config, expected 'manual'"
                )
            return {"trigger": "manual"}
    return _read_duration(config, "frequency")


def _read_duration(config: Config, key: str) -> TaskDuration:
    # Kept in the form it was written (an ISO string stays an ISO string) so that the persisted
    # settings show what the config says; parsing here only validates it.
    value: Any = config.get(key)
    parse_duration(value, key=key)
    if isinstance(value, str):
        return value
    return {unit: amount for unit, amount in value.items()}


# Loaded on first use (backstage_runtime.api is lazy for it): the names take their public module
# here, however this module was first imported.
publish_lazy_module(globals())
