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

    The head and request limits are deadlines, checked by one timer that is only set again when
    it would fire too late: a timer handle made and cancelled twice per request cost more than
    the rest of the guard. A timer that fires before the current deadlines (those of an earlier
    request) finds nothing due and waits for the earliest one still running.
    """

    def __init__(self, limits: ServerLimits, expire: Callable[[bool], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self._limits = limits
        self._expire = expire
        self._headers_timeout = limits.headers_timeout
        self._request_timeout = limits.request_timeout
        timeouts = [t for t in (self._headers_timeout, self._request_timeout) if t is not None]
        #: The shorter of the two request limits (None: neither is set).
        self._first_timeout = min(timeouts) if timeouts else None
        self._headers_deadline: float | None = None
        self._request_deadline: float | None = None
        self._request_timer: asyncio.TimerHandle | None = None
        self._request_timer_at = 0.0  # the loop time it fires at
        self._socket_timer: asyncio.TimerHandle | None = None
        self._stopped = False
        self._written = 0
        self._last_activity = self._loop.time()
        #: Whether bytes of the current request have arrived (the keep-alive wait is over).
        self._request_has_data = False
        self._waiting = True  # a request is due: the clocks of head and body run
        self._arm_request_timers()
        if limits.socket_timeout is not None:
            self._socket_timer = self._loop.call_later(limits.socket_timeout, self._socket_idle)

    def received(self) -> bool:
        """Bytes arrived; True when they are the first of a request (the caller ends the
        keep-alive wait, which Node ends at the first byte too).
        """
        if self._socket_timer is not None:  # only the inactivity timeout reads the time
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
        if self._socket_timer is not None:  # only the inactivity timeout reads the time
            self._last_activity = self._loop.time()

    def head_complete(self) -> None:
        """The request head was parsed."""
        self._headers_deadline = None

    def body_complete(self) -> None:
        """The request body was read to its end (or the connection switched protocols)."""
        self._headers_deadline = None
        self._request_deadline = None

    def next_request(self, *, pending: bool) -> None:
        """The connection is ready for another request; ``pending``: bytes of it are here."""
        self._headers_deadline = None
        self._request_deadline = None
        self._request_has_data = pending
        self._waiting = pending
        if pending:
            self._arm_request_timers()

    def stop(self) -> None:
        """The connection closed: no timer fires any more."""
        self._stopped = True
        self._headers_deadline = self._request_deadline = None
        for timer in (self._request_timer, self._socket_timer):
            if timer is not None:
                timer.cancel()
        self._request_timer = self._socket_timer = None

    def _arm_request_timers(self) -> None:
        first = self._first_timeout
        if first is None or self._stopped:
            return
        now = self._loop.time()
        headers, request = self._headers_timeout, self._request_timeout
        self._headers_deadline = None if headers is None else now + headers
        self._request_deadline = None if request is None else now + request
        if self._request_timer is None or self._request_timer_at > now + first:
            self._set_request_timer(now + first)

    def _set_request_timer(self, when: float) -> None:
        if self._request_timer is not None:
            self._request_timer.cancel()
        self._request_timer = self._loop.call_at(when, self._check_deadlines)
        self._request_timer_at = when

    def _check_deadlines(self) -> None:
        self._request_timer = None
        if self._stopped:
            return
        now = self._loop.time()
        due = [d for d in (self._headers_deadline, self._request_deadline) if d is not None]
        if not due:
            return  # the next request's first byte sets the timer again
        if now >= min(due):
            # Node writes its 408 only while nothing has been written on the socket.
            self._fire(respond=self._written == 0)
            return
        self._set_request_timer(min(due))

    def _socket_idle(self) -> None:
        timeout = self._limits.socket_timeout
        if self._stopped or timeout is None:
            return
        remaining = self._last_activity + timeout - self._loop.time()
        if remaining > 0:
            # Activity since the timer was set: wait out the rest rather than re-arm on each
            # read and write.
            self._socket_timer = self._loop.call_later(remaining, self._socket_idle)
            return
        self._fire(respond=False)  # Node destroys an idle socket without a word

    def _fire(self, *, respond: bool) -> None:
        self.stop()
        self._expire(respond)
