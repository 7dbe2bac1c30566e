"""A counter of running deliveries that a shutdown can wait on."""

from __future__ import annotations

import anyio

__all__ = ["InFlight"]


class InFlight:
    """Counts the deliveries (or publishes) running now; :meth:`wait_idle` returns once none is.

    An :class:`anyio.Event` per busy period rather than polling: the waiter wakes exactly when
    the last one ends.
    """

    def __init__(self) -> None:
        self._count = 0
        # Created when the first one starts: anyio needs a running event loop for an Event.
        self._idle: anyio.Event | None = None

    @property
    def count(self) -> int:
        """How many are running now."""
        return self._count

    def enter(self) -> None:
        """One more is running."""
        if self._count == 0:
            self._idle = anyio.Event()
        self._count += 1

    def exit(self) -> None:
        """One of them finished."""
        self._count -= 1
        if self._count == 0 and self._idle is not None:
            self._idle.set()

    async def wait_idle(self) -> None:
        """Return once nothing is running (at once when nothing is)."""
        if self._count > 0 and self._idle is not None:
            await self._idle.wait()
