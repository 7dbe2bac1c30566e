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
    """

    def __init__(self, compute: Callable[[], Awaitable[T]]) -> None:
        self._compute: Callable[[], Awaitable[T]] | None = compute
        self._done = anyio.Event()
        self._value: T | None = None
        self._error: BaseException | None = None

    @property
    def done(self) -> bool:
        """Whether the outcome is known."""
        return self._done.is_set()

    async def get(self) -> T:
        """The computed value; raises the computation's exception for every caller."""
        compute = self._compute
        if compute is not None:
            self._compute = None
            try:
                self._value = await compute()
            except BaseException as error:  # cached for the other waiters, re-raised below
                self._error = error
            finally:
                self._done.set()
        else:
            await self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]
