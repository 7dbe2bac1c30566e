"""``core.rootLifecycle`` and ``core.lifecycle``: startup and shutdown hooks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from .logger import LoggerService

__all__ = ["LifecycleHook", "LifecycleService", "RootLifecycleService"]

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
