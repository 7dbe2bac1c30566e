"""The timers Node's HTTP server keeps per connection (``headersTimeout``, ``requestTimeout``,
``timeout``), for one Hypercorn HTTP/1.1 connection.

Hypercorn has none of them: a slow request head is only cut by its keep-alive idle timer, a slow
body not at all, and its ``read_timeout`` ignores writes. The protocol tells the guard what
happens on the connection (bytes in and out, a head or a body complete, the next request); the
guard calls ``expire(respond)`` when a limit runs out, ``respond`` saying whether Node would
write its ``408`` first (only on a connection that has written nothing yet).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ._server_limits import ServerLimits

__all__ = ["REQUEST_TIMEOUT_RESPONSE", "ConnectionGuard"]

#: What Node writes when a request head or body does not arrive in time.
REQUEST_TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n"


class ConnectionGuard:
    """The head, request and inactivity timers of one connection (asyncio timer handles, so
    an idle connection costs no task).

    A request's clock starts at the connection for the first request, and at the first byte
    of each later one (between requests the keep-alive timeout applies instead).
    """

    def __init__(self, limits: ServerLimits, expire: Callable[[bool], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self._limits = limits
        self._expire = expire
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._stopped = False
        self._written = 0
        self._last_activity = self._loop.time()
        #: Whether bytes of the current request have arrived (the keep-alive wait is over).
        self._request_has_data = False
        self._waiting = True  # a request is due: the clocks of head and body run
        self._arm_request_timers()
        self._arm("socket", limits.socket_timeout, self._socket_idle)

    def received(self) -> bool:
        """Bytes arrived; True when they are the first of a request (the caller ends the
        keep-alive wait, which Node ends at the first byte too).
        """
        self._last_activity = self._loop.time()
        if self._request_has_data:
            return False
        self._request_has_data = True
        if not self._waiting:
            self._waiting = True
            self._arm_request_timers()
        return True

    def wrote(self, count: int) -> None:
        """Bytes were written."""
        self._written += count
        self._last_activity = self._loop.time()

    def head_complete(self) -> None:
        """The request head was parsed."""
        self._cancel("headers")

    def body_complete(self) -> None:
        """The request body was read to its end (or the connection switched protocols)."""
        self._cancel("headers")
        self._cancel("request")

    def next_request(self, *, pending: bool) -> None:
        """The connection is ready for another request; ``pending``: bytes of it are here."""
        self._cancel("headers")
        self._cancel("request")
        self._request_has_data = pending
        self._waiting = pending
        if pending:
            self._arm_request_timers()

    def stop(self) -> None:
        """The connection closed: no timer fires any more."""
        self._stopped = True
        for name in list(self._timers):
            self._cancel(name)

    def _arm_request_timers(self) -> None:
        self._arm("headers", self._limits.headers_timeout, self._timed_out)
        self._arm("request", self._limits.request_timeout, self._timed_out)

    def _arm(self, name: str, delay: float | None, callback: Callable[[], None]) -> None:
        self._cancel(name)
        if delay is not None and not self._stopped:
            self._timers[name] = self._loop.call_later(delay, callback)

    def _cancel(self, name: str) -> None:
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()

    def _timed_out(self) -> None:
        if self._stopped:
            return
        # Node writes its 408 only while nothing has been written on the socket.
        self._fire(respond=self._written == 0)

    def _socket_idle(self) -> None:
        timeout = self._limits.socket_timeout
        if self._stopped or timeout is None:
            return
        remaining = self._last_activity + timeout - self._loop.time()
        if remaining > 0:
            # Activity since the timer was set: wait out the rest rather than re-arm on each
            # read and write.
            self._timers["socket"] = self._loop.call_later(remaining, self._socket_idle)
            return
        self._fire(respond=False)  # Node destroys an idle socket without a word

    def _fire(self, *, respond: bool) -> None:
        self.stop()
        self._expire(respond)
