"""The keep-alive wait between the requests of one HTTP/1.1 connection, kept by a timer handle.

Hypercorn keeps it with a task per wait: each response starts one (which starts a second, for
``asyncio.wait_for`` on the worker's termination event, and a timer), and the next request
cancels both and waits for them to finish. That was about 13% of a served request's instructions
(callgrind: 1.72 M -> 1.49 M per request without it). :class:`KeepAliveTimer` keeps the same wait
with a deadline and one timer handle per connection, set again only when it fires before the
deadline, as :mod:`._connection_guard` keeps Node's request timers.

Hypercorn's wait also ends when the worker terminates (the server stops accepting): idle
connections are closed at once rather than after the keep-alive timeout. One task per worker
(:class:`IdleConnections`) waits for that and closes the connections that are idle then; a
connection busy then is closed by Hypercorn after its response, as before.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable

__all__ = ["IdleConnections", "KeepAliveTimer"]


class KeepAliveTimer:
    """The keep-alive wait of one connection: :meth:`idle` after a response starts it,
    :meth:`busy` at the next request ends it, and ``close`` is called (once) when a wait lasts
    ``timeout`` seconds, or by :meth:`close_if_idle`.
    """

    __slots__ = ("__weakref__", "_close", "_deadline", "_loop", "_timeout", "_timer")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, timeout: float, close: Callable[[], None]
    ) -> None:
        self._loop = loop
        self._timeout = timeout
        self._close: Callable[[], None] | None = close
        #: When the current wait ends (loop time); None while a request is served.
        self._deadline: float | None = None
        self._timer: asyncio.TimerHandle | None = None

    @property
    def is_idle(self) -> bool:
        """Whether the connection is waiting for its next request."""
        return self._deadline is not None

    def idle(self) -> None:
        """A response is over: the wait for the next request starts now."""
        if self._close is None:
            return
        deadline = self._loop.time() + self._timeout
        self._deadline = deadline
        # A timer still set for an earlier wait fires earlier than this deadline and sets
        # itself again; only a connection without one needs a new handle.
        if self._timer is None:
            self._timer = self._loop.call_at(deadline, self._check)

    def busy(self) -> None:
        """A request started: the wait is over (its timer, if any, finds nothing due)."""
        self._deadline = None

    def stop(self) -> None:
        """The connection closed: nothing is called any more."""
        self._deadline = None
        self._close = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def close_if_idle(self) -> None:
        """Close the connection now if it is waiting for a request."""
        if self._deadline is not None:
            self._expire()

    def _check(self) -> None:
        self._timer = None
        deadline = self._deadline
        if deadline is None:
            return  # served a request since; the next wait sets the timer again
        if self._loop.time() < deadline:
            self._timer = self._loop.call_at(deadline, self._check)
            return
        self._expire()

    def _expire(self) -> None:
        close = self._close
        self.stop()
        if close is not None:
            close()


class IdleConnections:
    """The keep-alive timers of one Hypercorn worker, closed while idle when the worker
    terminates; :meth:`of` gives the one of a worker, started with its first connection.
    """

    def __init__(self, terminated: Callable[[], Awaitable[object]]) -> None:
        self._timers: weakref.WeakSet[KeepAliveTimer] = weakref.WeakSet()
        self._task = asyncio.get_running_loop().create_task(self._close_idle_after(terminated))

    @classmethod
    def of(cls, worker: object, terminated: Callable[[], Awaitable[object]]) -> IdleConnections:
        """The registry of ``worker`` (a key held weakly), whose termination ``terminated``
        waits for; made on the first call, in the running event loop.
        """
        found = _of_worker.get(worker)
        if found is None:
            found = _of_worker[worker] = cls(terminated)
        return found

    def add(self, timer: KeepAliveTimer) -> None:
        """Close ``timer``'s connection if it is idle when the worker terminates (held weakly:
        a closed connection needs no removal).
        """
        self._timers.add(timer)

    async def _close_idle_after(self, terminated: Callable[[], Awaitable[object]]) -> None:
        await terminated()
        for timer in list(self._timers):
            timer.close_if_idle()


_of_worker: weakref.WeakKeyDictionary[object, IdleConnections] = weakref.WeakKeyDictionary()
