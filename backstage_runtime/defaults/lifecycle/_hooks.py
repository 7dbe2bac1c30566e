"""Running one phase of lifecycle hooks: concurrently, each bounded, failures logged."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import anyio

from ...api import LifecycleHook, LoggerService

__all__ = ["HookPhase", "RegisteredHook"]


@dataclass(frozen=True)
class RegisteredHook:
    """A hook, the logger its failure goes to, and its own time budget (None: the phase's)."""

    hook: LifecycleHook
    logger: LoggerService
    timeout: float | None = None


class HookPhase:
    """One phase (startup, before-shutdown, shutdown): hooks are added until it runs, once."""

    def __init__(self, name: str, add_error: str) -> None:
        self._name = name
        self._add_error = add_error
        self._hooks: list[RegisteredHook] = []
        self._ran = False

    @property
    def ran(self) -> bool:
        """Whether the phase has run (or is running)."""
        return self._ran

    def add(self, hook: LifecycleHook, logger: LoggerService, timeout: float | None = None) -> None:
        """Add ``hook``; raises :class:`RuntimeError` with Backstage's text once the phase ran.

        ``timeout`` (seconds) replaces the phase's bound for this hook only.
        """
        if self._ran:
            raise RuntimeError(self._add_error)
        if not callable(hook):
            raise TypeError(f"A {self._name} hook must be callable, got {hook!r}")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"A {self._name} hook timeout must be positive, got {timeout!r}")
        self._hooks.append(RegisteredHook(hook, logger, timeout))

    async def run(self, timeout: float | None) -> None:
        """Run every hook concurrently, each bounded by ``timeout`` seconds; runs at most once.

        A hook that fails or times out is logged to its logger; the others are unaffected.
        """
        if self._ran:
            return
        self._ran = True
        hooks, self._hooks = self._hooks, []
        async with anyio.create_task_group() as group:
            for registered in hooks:
                group.start_soon(self._run_one, registered, timeout)

    async def _run_one(self, registered: RegisteredHook, timeout: float | None) -> None:
        if registered.timeout is not None:
            timeout = registered.timeout
        try:
            with anyio.fail_after(timeout):
                result = registered.hook()
                if inspect.isawaitable(result):
                    await result
        except TimeoutError:
            registered.logger.error(
                f"{self._name.capitalize()} hook timed out after {timeout:g}s",
                {"hook": getattr(registered.hook, "__qualname__", repr(registered.hook))},
            )
        except Exception as error:
            registered.logger.error(f"{self._name.capitalize()} hook failed", error)
