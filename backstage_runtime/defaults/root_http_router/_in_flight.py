"""Counting requests in progress, so shutdown can wait for every one of them, and cut the ones
that outlast the wait with a 503 of their own.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import anyio

from ...api.errors import ServiceUnavailableError
from ...http_toolkit import (
    ASGIApp,
    ErrorResponder,
    Message,
    Receive,
    Scope,
    Send,
    TaskCancel,
    current_asyncio_task,
    request_url,
    send_json,
)

__all__ = ["InFlightMiddleware", "InFlightRequests"]


class Cancellable(Protocol):
    """What cancels one request in progress (an anyio cancel scope, or a task's cut)."""

    def cancel(self) -> None:
        """Cancel the request."""


class InFlightRequests:
    """The requests being served, each with its own cancel scope: a wait for none to be left,
    and :meth:`cut` to cancel the ones still running.
    """

    def __init__(self) -> None:
        self._running: set[Cancellable] = set()
        # Made by a wait and set by the last request to end: requests alone make no event.
        self._idle: anyio.Event | None = None
        self._cut_reason: str | None = None

    @property
    def count(self) -> int:
        """How many requests are being served now."""
        return len(self._running)

    @property
    def cut_reason(self) -> str | None:
        """Why requests were cut (the 503's message), or None while they may run to the end."""
        return self._cut_reason

    def enter(self, scope: Cancellable) -> None:
        """A request started; ``scope`` cancels it. After :meth:`cut` it is cancelled at once:
        nothing may start running once the wait is over.
        """
        self._running.add(scope)
        if self._cut_reason is not None:
            scope.cancel()

    def exit(self, scope: Cancellable) -> None:
        """A request finished (whatever its outcome)."""
        self._running.discard(scope)
        if not self._running and self._idle is not None:
            self._idle.set()
            self._idle = None

    async def wait_idle(self) -> None:
        """Return once no request is in progress."""
        while self._running:
            if self._idle is None:
                self._idle = anyio.Event()
            await self._idle.wait()

    def cut(self, reason: str) -> int:
        """Cancel every request still running (and any that starts later); each one not yet
        answered gets a 503 ``ServiceUnavailableError`` saying ``reason``. Returns how many.
        """
        self._cut_reason = reason
        for scope in self._running:
            scope.cancel()
        return len(self._running)


class InFlightMiddleware:
    """Counts every HTTP request in ``requests`` while it is served, so that shutdown can wait
    for the last one; a request cut by :meth:`InFlightRequests.cut` before its response started
    is answered 503 with ``errors``'s body (one that had started can only be closed).
    """

    __slots__ = ("_errors", "_requests", "app")

    def __init__(self, app: ASGIApp, requests: InFlightRequests, errors: ErrorResponder) -> None:
        self.app = app
        self._requests = requests
        self._errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, counted and cancellable."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        task = current_asyncio_task()
        if task is None:  # another event loop (trio): anyio's cancel scope serves
            await self._serve_in_scope(scope, receive, send)
            return
        requests = self._requests
        # A cut cancels the task once; an anyio cancel scope would do the same for about four
        # times the instructions per request. One that arrives after the cut does not run.
        cut = TaskCancel(task)
        guarded = _CutSend(send)
        requests.enter(cut)
        try:
            if not cut.called:  # after the cut nothing starts running
                try:
                    await self.app(scope, receive, guarded)
                except asyncio.CancelledError:
                    if not cut.withdraw():
                        raise
                except BaseException:
                    cut.withdraw()  # whatever the cancellation became, it is over
                    raise
                else:
                    cut.withdraw()  # the app swallowed the cancellation, if there was one
            if cut.called and not guarded.started:
                await self._answer_cut(scope, send, guarded)
        finally:
            guarded.cut = True
            requests.exit(cut)

    async def _serve_in_scope(self, scope: Scope, receive: Receive, send: Send) -> None:
        requests = self._requests
        cancel = anyio.CancelScope()
        guarded = _CutSend(send)
        requests.enter(cancel)
        try:
            with cancel:
                await self.app(scope, receive, guarded)
            if cancel.cancel_called and not guarded.started:
                await self._answer_cut(scope, send, guarded)
        finally:
            guarded.cut = True
            requests.exit(cancel)

    async def _answer_cut(self, scope: Scope, send: Send, guarded: _CutSend) -> None:
        # Outside the cancelled call, so the answer itself is not cancelled; still counted, so
        # the server is not closed before it is written.
        guarded.cut = True
        reason = self._requests.cut_reason or "Backend is shutting down"
        status, body = self._errors.respond(
            ServiceUnavailableError(reason),
            method=scope["method"],
            url=request_url(scope, relative=False),
        )
        await send_json(send, status, body)


class _CutSend:
    """Notes whether the response started; drops what a handler that outlived its cut still
    sends (a task it left behind), since the request was already answered or closed.
    """

    __slots__ = ("_send", "cut", "started")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False
        self.cut = False

    async def __call__(self, message: Message) -> None:
        if self.cut:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)
