"""Services the runtime itself provides: background tasks, instance metadata, a silent logger."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import anyio
from anyio.abc import TaskGroup

from ..api import (
    BackgroundTasksService,
    InstalledModule,
    InstalledPlugin,
    LoggerService,
    RootInstanceMetadataService,
    ServiceFactory,
    core_services,
    create_service_factory,
    runtime_services,
)
from ..api.services.logger import LogMeta
from ._assembly import Assembly

__all__ = ["NullLogger", "background_tasks_factory", "instance_metadata_factory"]


class NullLogger:
    """Used when the backend has no root logger factory (minimal test setups)."""

    def error(self, message: str, meta: LogMeta = None) -> None:
        """Drop the entry."""

    def warn(self, message: str, meta: LogMeta = None) -> None:
        """Drop the entry."""

    def info(self, message: str, meta: LogMeta = None) -> None:
        """Drop the entry."""

    def debug(self, message: str, meta: LogMeta = None) -> None:
        """Drop the entry."""

    def child(self, meta: Mapping[str, object]) -> NullLogger:
        """This logger: there is nothing to add fields to."""
        return self


class _BackgroundTasks:
    """The ``runtime.backgroundTasks`` service over the backend's task group."""

    def __init__(self, group: TaskGroup, logger: Callable[[], LoggerService]) -> None:
        self._group = group
        self._logger = logger

    def start_soon(self, fn: Callable[..., Awaitable[object]], *args: object, name: str) -> None:
        async def guarded() -> None:
            try:
                await fn(*args)
            except anyio.get_cancelled_exc_class():
                raise
            except Exception as error:
                self._logger().error(f"Background task '{name}' failed", error)

        self._group.start_soon(guarded, name=name)


def background_tasks_factory(
    group: TaskGroup, logger: Callable[[], LoggerService]
) -> ServiceFactory[BackgroundTasksService]:
    """``runtime.backgroundTasks`` running in ``group``; failures go to ``logger()`` (read late:
    the initialization logger exists only once the root services are built).
    """

    def factory() -> _BackgroundTasks:
        return _BackgroundTasks(group, logger)

    return create_service_factory(service=runtime_services.background_tasks, factory=factory)


def instance_metadata_factory(assembly: Assembly) -> ServiceFactory[RootInstanceMetadataService]:
    """``core.rootInstanceMetadata``: the plugins and modules this backend installed."""
    installed = tuple(
        InstalledPlugin(
            plugin_id=plugin_id,
            modules=tuple(
                InstalledModule(module_id=m) for (p, m) in assembly.modules if p == plugin_id
            ),
        )
        for plugin_id in assembly.plugins
    )

    class _InstanceMetadata:
        async def get_installed_plugins(self) -> tuple[InstalledPlugin, ...]:
            return installed

    return create_service_factory(
        service=core_services.root_instance_metadata, factory=_InstanceMetadata
    )
