"""The default root and plugin lifecycle services."""

from __future__ import annotations

from ...api import LifecycleHook, LoggerService
from ._hooks import HookPhase

__all__ = ["PluginLifecycle", "RootLifecycle"]


class PluginLifecycle:
    """``core.lifecycle``: one plugin's startup and shutdown hooks.

    The runtime calls :meth:`startup` right after the plugin's init and :meth:`shutdown` when the
    backend stops; both run their hooks concurrently, once.
    """

    def __init__(self, plugin_id: str, logger: LoggerService, timeout: float) -> None:
        self._plugin_id = plugin_id
        self._logger = logger
        self._timeout = timeout
        self._startup = HookPhase("startup", "Attempted to add startup hook after startup")
        self._shutdown = HookPhase("shutdown", "Attempted to add shutdown hook after shutdown")

    def add_startup_hook(
        self,
        hook: LifecycleHook,
        *,
        logger: LoggerService | None = None,
        timeout: float | None = None,
    ) -> None:
        """Run ``hook`` once the plugin has started; raises after startup."""
        self._startup.add(hook, self._hook_logger(logger), timeout)

    def add_shutdown_hook(
        self,
        hook: LifecycleHook,
        *,
        logger: LoggerService | None = None,
        timeout: float | None = None,
    ) -> None:
        """Run ``hook`` when the backend stops; raises after shutdown."""
        self._shutdown.add(hook, self._hook_logger(logger), timeout)

    async def startup(self) -> None:
        """Run the startup hooks (called by the runtime)."""
        await self._startup.run(self._timeout)

    async def shutdown(self) -> None:
        """Run the shutdown hooks (called by the runtime)."""
        await self._shutdown.run(self._timeout)

    def _hook_logger(self, logger: LoggerService | None) -> LoggerService:
        # A custom logger is tagged with the plugin, as Backstage does.
        return logger.child({"plugin": self._plugin_id}) if logger is not None else self._logger


class RootLifecycle:
    """``core.rootLifecycle``: backend-wide hooks; before-shutdown hooks run first at stop."""

    def __init__(self, logger: LoggerService, timeout: float) -> None:
        self._logger = logger
        self._timeout = timeout
        self._startup = HookPhase("startup", "Attempted to add startup hook after startup")
        self._before_shutdown = HookPhase(
            "before shutdown", "Attempt to add before shutdown hook after shutdown has started"
        )
        self._shutdown = HookPhase("shutdown", "Attempted to add shutdown hook after shutdown")

    def add_startup_hook(
        self,
        hook: LifecycleHook,
        *,
        logger: LoggerService | None = None,
        timeout: float | None = None,
    ) -> None:
        """Run ``hook`` once every plugin has started; raises after startup."""
        self._startup.add(hook, logger or self._logger, timeout)

    def add_before_shutdown_hook(
        self,
        hook: LifecycleHook,
        *,
        logger: LoggerService | None = None,
        timeout: float | None = None,
    ) -> None:
        """Run ``hook`` first at stop (readiness flips here); raises once stopping began."""
        self._before_shutdown.add(hook, logger or self._logger, timeout)

    def add_shutdown_hook(
        self,
        hook: LifecycleHook,
        *,
        logger: LoggerService | None = None,
        timeout: float | None = None,
    ) -> None:
        """Run ``hook`` last at stop, after every plugin shut down; raises after shutdown."""
        self._shutdown.add(hook, logger or self._logger, timeout)

    async def startup(self) -> None:
        """Run the startup hooks (called by the runtime)."""
        await self._startup.run(self._timeout)

    async def before_shutdown(self) -> None:
        """Run the before-shutdown hooks (called by the runtime)."""
        await self._before_shutdown.run(self._timeout)

    async def shutdown(self) -> None:
        """Run the shutdown hooks (called by the runtime)."""
        await self._shutdown.run(self._timeout)
