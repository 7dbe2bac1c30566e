"""The current time as JavaScript's ``Date.toISOString`` writes it, cheaply enough for every line.

Log entries carry two such times per request (the request log's ``date`` and the entry's
``timestamp``). ``datetime.now(UTC).isoformat(timespec="milliseconds")`` costs more than the rest
of a JSON line's encoding (keyword parsing, ``%``-formatting in C); the date and time part changes
once a second, so :class:`IsoClock` formats it once a second and appends the milliseconds.
A toolkit of the lowest layer, because the root logger and the root HTTP router both need it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

__all__ = ["IsoClock"]

_NS_PER_SECOND: Final = 1_000_000_000
_NS_PER_MS: Final = 1_000_000
# The milliseconds and the Z of every possible line, looked up instead of formatted.
_MILLIS: Final = tuple(f"{ms:03d}Z" for ms in range(1000))


class IsoClock:
    """``now()`` gives ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (UTC, milliseconds truncated as
    ``datetime.now(UTC).isoformat(timespec="milliseconds")`` truncates them).

    ``now_ns`` is the clock in nanoseconds since the epoch (default :func:`time.time_ns`, the
    clock ``datetime.now`` reads); tests pass a fixed one. Safe to share between threads: the
    cached second and its text are one tuple, replaced whole.
    """

    __slots__ = ("_now_ns", "_second")

    def __init__(self, now_ns: Callable[[], int] = time.time_ns) -> None:
        self._now_ns = now_ns
        self._second: tuple[int, str] = (-1, "")

    def now(self) -> str:
        """The current time, e.g. ``2024-05-06T07:08:09.005Z``."""
        return self.format_ns(self._now_ns())

    def format_ns(self, ns: int) -> str:
        """The time ``ns`` nanoseconds after the epoch, in the same form as :meth:`now`."""
        second = ns // _NS_PER_SECOND
        cached, text = self._second
        if second != cached:
            moment = datetime.fromtimestamp(second, UTC).replace(tzinfo=None)
            text = moment.isoformat(timespec="seconds") + "."
            self._second = (second, text)
        return text + _MILLIS[ns // _NS_PER_MS % 1000]
