"""Counting requests in progress, so shutdown can wait for every one of them."""

from __future__ import annotations

import anyio

__all__ = ["InFlightRequests"]


class InFlightRequests:
    """A counter of requests being served, with a wait for it to reach zero."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = anyio.Event()
        self._idle.set()

    @property
    def count(self) -> int:
        """How many requests are being served now."""
        return self._count

    def enter(self) -> None:
        """A request started."""
        if self._count == 0:
            self._idle = anyio.Event()
        self._count += 1

    def exit(self) -> None:
        """A request finished (whatever its outcome)."""
        self._count -= 1
        if self._count == 0:
            self._idle.set()

    async def wait_idle(self) -> None:
        """Return once no request is in progress."""
        while self._count:
            await self._idle.wait()
