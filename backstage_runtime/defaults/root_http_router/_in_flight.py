"""Counting requests in progress, so shutdown can wait for every one of them."""

from __future__ import annotations

import anyio

from ...http_toolkit import ASGIApp, Receive, Scope, Send

__all__ = ["InFlightMiddleware", "InFlightRequests"]


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


class InFlightMiddleware:
    """Counts every HTTP request in ``requests`` while it is served, so that shutdown can wait
    for the last one.
    """

    __slots__ = ("_requests", "app")

    def __init__(self, app: ASGIApp, requests: InFlightRequests) -> None:
        self.app = app
        self._requests = requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, counted."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self._requests.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            self._requests.exit()
