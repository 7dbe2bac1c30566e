"""``core.rootLifecycle`` and ``core.lifecycle``: startup and shutdown hooks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from .._durations import read_duration_from_config
from .config import Config
from .logger import LoggerService

__all__ = [
    "DEFAULT_SHUTDOWN_HOOK_TIMEOUT_SECONDS",
    "SHUTDOWN_HOOK_TIMEOUT_KEY",
    "LifecycleHook",
    "LifecycleService",
    "PluginLifecycleDriver",
    "RootLifecycleDriver",
    "RootLifecycleService",
    "read_shutdown_hook_timeout",
]

#: The config key bounding each lifecycle hook (and each factory's cleanup). Ours: Backstage does
#: not bound hooks; it takes a Backstage duration.
SHUTDOWN_HOOK_TIMEOUT_KEY = "backend.lifecycle.shutdownHookTimeout"

#: Seconds a hook may take when :data:`SHUTDOWN_HOOK_TIMEOUT_KEY` is not configured.
DEFAULT_SHUTDOWN_HOOK_TIMEOUT_SECONDS = 10.0

#: A hook: a sync or async callable without arguments.
LifecycleHook = Callable[[], Awaitable[None] | None]


class LifecycleService(Protocol):
    """Hooks run around a plugin's life: startup hooks right after its init, shutdown hooks when
    the backend stops. Hooks of one phase run concurrently; a failing hook is logged (to ``logger``
    when given) and does not stop the others. Each hook is bounded by
    ``backend.lifecycle.shutdownHookTimeout`` (10 s) unless it passes its own ``timeout`` (seconds).
    """

    def add_startup_hook(
        self,
        hook: LifecycleHook,
        *,
        logger: LoggerService | None = None,
        timeout: float | None = None,
    ) -> None:
        """Run ``hook`` once startup completes; raises if startup already happened."""

    def add_shutdown_hook(
        self,
        hook: LifecycleHook,
        *,
        logger: LoggerService | None = None,
        timeout: float | None = None,
    ) -> None:
        """Run ``hook`` at shutdown; raises if shutdown already happened."""


class RootLifecycleService(LifecycleService, Protocol):
    """The backend-wide lifecycle; startup hooks run once every plugin has started."""

    def add_before_shutdown_hook(
        self,
        hook: LifecycleHook,
        *,
        logger: LoggerService | None = None,
        timeout: float | None = None,
    ) -> None:
        """Run ``hook`` first when the backend stops, before any plugin shuts down."""


@runtime_checkable
class PluginLifecycleDriver(Protocol):
    """What the runtime calls on a plugin's ``core.lifecycle`` instance to run its hooks.

    A replacement lifecycle factory must return objects with these methods as well as those of
    :class:`LifecycleService`; the backend refuses to start a plugin whose lifecycle lacks them.
    """

    async def startup(self) -> None:
        """Run the startup hooks; called once, right after the plugin's init (and its modules')
        returned, before the plugin counts as started.
        """

    async def shutdown(self) -> None:
        """Run the shutdown hooks; called once when the backend stops, after the root
        before-shutdown hooks, concurrently with the other plugins' shutdowns.
        """


@runtime_checkable
class RootLifecycleDriver(Protocol):
    """What the runtime calls on the ``core.rootLifecycle`` instance to run its hooks.

    A replacement root lifecycle factory must return an object with these methods as well as
    those of :class:`RootLifecycleService`; the backend refuses to start otherwise.
    """

    async def startup(self) -> None:
        """Run the startup hooks; called once, after every plugin has started."""

    async def before_shutdown(self) -> None:
        """Run the before-shutdown hooks; called first when the backend stops."""

    async def shutdown(self) -> None:
        """Run the shutdown hooks; called after every plugin's shutdown hooks, before the
        generator factories' cleanups.
        """


def read_shutdown_hook_timeout(config: Config) -> float:
    """Seconds each hook may take: ``backend.lifecycle.shutdownHookTimeout`` or 10 s.

    One reading for the lifecycle services, the HTTP server's drain and the runtime's cleanup, so
    they cannot disagree. Raises :class:`~backstage_runtime.api.errors.ConfigError` for a value
    that is not a duration.
    """
    if not config.has(SHUTDOWN_HOOK_TIMEOUT_KEY):
        return DEFAULT_SHUTDOWN_HOOK_TIMEOUT_SECONDS
    return read_duration_from_config(config, SHUTDOWN_HOOK_TIMEOUT_KEY).total_seconds()
