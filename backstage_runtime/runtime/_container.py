"""A service container: the instances of one scope owner (the root, or one plugin) and their
cleanups, closed through an :class:`~contextlib.AsyncExitStack` in reverse creation order.
"""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from contextlib import AsyncExitStack

import anyio

from ..api import LoggerService
from ._once import Once
from ._types import ROOT_PLUGIN_ID, ErasedFactory

__all__ = ["ServiceContainer"]

#: A generator factory after its ``yield``; its remaining code is the service's cleanup.
SuspendedFactory = AsyncGenerator[object, None] | Generator[object, None, None]


class _PluginMetadata:
    """The synthesised ``core.pluginMetadata`` instance of one plugin."""

    __slots__ = ("_plugin_id",)

    def __init__(self, plugin_id: str) -> None:
        self._plugin_id = plugin_id

    def get_id(self) -> str:
        return self._plugin_id


class ServiceContainer:
    """Instances built for one owner, each at most once, and the cleanups they left behind.

    ``plugin_id`` is None for the root container. Each instance (and each factory's
    ``create_root_context`` result) is a :class:`Once` cell keyed by its factory, so concurrent
    requests share one build and a failed build stays failed.
    """

    def __init__(self, plugin_id: str | None) -> None:
        self.plugin_id = plugin_id
        self.metadata = _PluginMetadata(plugin_id or ROOT_PLUGIN_ID)
        self._instances: dict[ErasedFactory, Once[object]] = {}
        self._contexts: dict[ErasedFactory, Once[object]] = {}
        self._stack = AsyncExitStack()
        # Set by aclose(): cleanups are registered at build time but bounded and logged at stop.
        self._timeout = math.inf
        self._logger: LoggerService | None = None

    async def instance(
        self, factory: ErasedFactory, build: Callable[[], Awaitable[object]]
    ) -> object:
        """The instance of ``factory`` here, built by ``build`` on the first request."""
        cell = self._instances.get(factory)
        if cell is None:
            cell = self._instances[factory] = Once(build)
        return await cell.get()

    async def root_context(
        self, factory: ErasedFactory, build: Callable[[], Awaitable[object]]
    ) -> object:
        """The ``create_root_context`` result of ``factory``, built by ``build`` once."""
        cell = self._contexts.get(factory)
        if cell is None:
            cell = self._contexts[factory] = Once(build)
        return await cell.get()

    def holds(self, factory: ErasedFactory) -> bool:
        """Whether an instance of ``factory`` was requested here (built, building or failed)."""
        return factory in self._instances

    def push_cleanup(self, service_id: str, suspended: SuspendedFactory) -> None:
        """Run the rest of ``suspended`` when the container closes, after later cleanups."""
        self._stack.push_async_callback(self._resume, service_id, suspended)

    async def aclose(self, timeout: float, logger: LoggerService) -> None:
        """Run every cleanup, newest first, each bounded by ``timeout`` seconds; a failing or
        slow cleanup is logged to ``logger`` and never stops the others.
        """
        self._timeout = timeout
        self._logger = logger
        await self._stack.aclose()

    async def _resume(self, service_id: str, suspended: SuspendedFactory) -> None:
        logger = self._logger
        assert logger is not None  # cleanups run only from aclose()
        where = f"service '{service_id}'" + (
            f" of plugin '{self.plugin_id}'" if self.plugin_id else ""
        )
        timeout = self._timeout
        try:
            with anyio.fail_after(timeout if math.isfinite(timeout) else None):
                if await _finish(suspended):
                    return
                logger.warn(f"The factory of {where} yielded more than once")
        except TimeoutError:
            logger.error(f"Cleanup of {where} timed out after {timeout:g}s")
        except Exception as error:
            logger.error(f"Cleanup of {where} failed", error)


async def _finish(suspended: SuspendedFactory) -> bool:
    """Resume ``suspended`` to its end; False (after closing it) if it yielded again instead."""
    if isinstance(suspended, AsyncGenerator):
        try:
            await suspended.__anext__()
        except StopAsyncIteration:
            return True
        await suspended.aclose()
        return False
    try:
        next(suspended)
    except StopIteration:
        return True
    suspended.close()
    return False
