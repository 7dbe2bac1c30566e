"""An awaitable computed at most once, shared by every concurrent waiter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import anyio

T = TypeVar("T")


class Once(Generic[T]):
    """Runs ``compute`` on the first :meth:`get` and hands every caller the same outcome.

    A failure is cached as well, as Backstage caches rejected promises: a service that failed to
    build stays failed for the life of the backend instead of being retried halfway through start.

    Cancellation is not an outcome: it belongs to the task that was cancelled, not to the service.
    When the computing task is cancelled, the cell forgets the attempt and the next caller (or a
    waiter that was already queued) computes again.
    """

    def __init__(self, compute: Callable[[], Awaitable[T]]) -> None:
        self._compute = compute
        self._running: anyio.Event | None = None
        self._finished = False
        self._value: T | None = None
        self._error: BaseException | None = None

    async def get(self) -> T:
        """The computed value; raises the computation's exception for every caller."""
        while not self._finished:
            running = self._running
            if running is not None:
                # Another task computes; if it is cancelled the loop lets this one take over.
                await running.wait()
                continue
            running = self._running = anyio.Event()
            try:
                self._value = await self._compute()
                self._finished = True
            except anyio.get_cancelled_exc_class():
                self._running = None
                raise
            except BaseException as error:  # cached for the other waiters, re-raised below
                self._error = error
                self._finished = True
            finally:
                running.set()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # _finished without error: T is set
