"""Plugins and helpers shared by the scheduler tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
from sqlalchemy import text

from backstage_runtime import BackendPlugin, core_services, create_backend_plugin
from backstage_runtime.defaults.scheduler import PluginScheduler, scheduler_service_factory
from backstage_runtime.testing import TestBackend, start_test_backend

#: Fast enough for tests: the janitor every 200 ms, the table read at least every second.
FAST = {"janitor_interval": 0.2, "max_poll_interval": 1.0}


def scheduler_plugin(
    plugin_id: str, schedule: Callable[[Any], Awaitable[None]] | None = None
) -> BackendPlugin:
    """A plugin whose init calls ``schedule(scheduler)``."""

    def register(env: Any) -> None:
        async def init(*, scheduler: Any) -> None:
            if schedule is not None:
                await schedule(scheduler)

        env.register_init(deps={"scheduler": core_services.scheduler}, init=init)

    return create_backend_plugin(plugin_id=plugin_id, register=register)


@asynccontextmanager
async def scheduler_backend(
    schedule: Callable[[Any], Awaitable[None]] | None = None,
    *,
    database: Mapping[str, Any] | None = None,
    plugin_id: str = "tasks",
    factory_options: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
) -> AsyncIterator[TestBackend]:
    """A test backend with the default scheduler and one plugin that schedules its tasks."""
    full_config: dict[str, Any] = dict(config or {})
    if database is not None:
        full_config.setdefault("backend", {})["database"] = dict(database)
    async with start_test_backend(
        features=[
            scheduler_service_factory(**{**FAST, **(factory_options or {})}),
            scheduler_plugin(plugin_id, schedule),
        ],
        config=full_config,
    ) as backend:
        yield backend


async def plugin_scheduler(backend: TestBackend, plugin_id: str = "tasks") -> PluginScheduler:
    """The plugin's scheduler instance."""
    scheduler = await backend.get_service(core_services.scheduler, plugin_id)
    assert isinstance(scheduler, PluginScheduler)
    return scheduler


async def task_row(backend: TestBackend, task_id: str, plugin_id: str = "tasks") -> Any:
    """The task's row in the plugin's tasks table (None if absent)."""
    database = await backend.get_service(core_services.database, plugin_id)
    async with database.connect() as conn:
        result = await conn.execute(
            text("SELECT * FROM backstage_backend_tasks__tasks WHERE id = :id"), {"id": task_id}
        )
        return result.mappings().first()


async def execute(backend: TestBackend, sql: str, plugin_id: str = "tasks", **params: Any) -> None:
    """Run one statement on the plugin's database, committed."""
    database = await backend.get_service(core_services.database, plugin_id)
    async with database.begin() as conn:
        await conn.execute(text(sql), params)


class Recorder:
    """A task function that records each run's start and end (``anyio.current_time()``)."""

    def __init__(self, *, duration: float = 0.0, fail_on: Callable[[int], bool] | None = None):
        self.duration = duration
        self.fail_on = fail_on
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.aborted: list[str | None] = []
        self.running = 0
        self.max_running = 0

    async def __call__(self, signal: Any) -> None:
        self.starts.append(anyio.current_time())
        number = len(self.starts)
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            if self.duration:
                await anyio.sleep(self.duration)
            if self.fail_on is not None and self.fail_on(number):
                raise RuntimeError(f"run {number} failed")
        finally:
            self.running -= 1
            self.ends.append(anyio.current_time())
            self.aborted.append(getattr(signal, "reason", None))

    @property
    def count(self) -> int:
        """How many runs started."""
        return len(self.starts)
