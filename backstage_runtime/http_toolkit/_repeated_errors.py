"""Which failures to log: the first of a kind in full, then one count per interval.

A dependency that is down fails every request the same way (hundreds a second, each with a long
traceback); the log must still show what happened without drowning everything else. The idea
is the cache guard's (``defaults/cache/_guard.py``): log a change, count repetitions, report the
count once per interval.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from ._internal_errors import causes

__all__ = ["DEFAULT_REPEAT_INTERVAL", "RepeatDecision", "RepeatedErrors", "error_signature"]

#: Seconds during which the same failure is counted instead of logged again.
DEFAULT_REPEAT_INTERVAL = 60.0
# Kinds remembered at once; the oldest is forgotten first (it is then logged in full again).
_MAX_KINDS = 256
_MAX_MESSAGE = 500


def error_signature(error: BaseException, status: int) -> Hashable:
    """What makes two failures "the same": the status and every error's class and message
    along the chain of causes.
    """
    return (
        status,
        tuple(
            (type(e).__module__, type(e).__qualname__, str(e)[:_MAX_MESSAGE]) for e in causes(error)
        ),
    )


@dataclass(frozen=True, slots=True)
class RepeatDecision:
    """What to log for one failure.

    ``log`` False: nothing (it is counted). Otherwise log it, ``repeated`` being how many times
    the same failure happened since it was last logged without being logged (0: the first of
    its kind, log it in full; more: log the count, the details were logged under
    ``previous_log_id``). ``log_id`` is the id of the entry that answers for this failure: a
    response reporting a hidden error names it, so the client's id finds the logged details.
    """

    log: bool
    log_id: str
    repeated: int = 0
    previous_log_id: str | None = None


@dataclass(slots=True)
class _Kind:
    logged_at: float
    log_id: str
    suppressed: int = 0


class RepeatedErrors:
    """Decides, failure by failure, whether it is logged (see :class:`RepeatDecision`)."""

    def __init__(
        self,
        *,
        interval: float = DEFAULT_REPEAT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = interval
        self._clock = clock
        self._kinds: OrderedDict[Hashable, _Kind] = OrderedDict()

    def note(self, signature: Hashable, new_log_id: Callable[[], str]) -> RepeatDecision:
        """Record one failure of ``signature``; ``new_log_id`` makes the id of a logged one."""
        now = self._clock()
        kind = self._kinds.get(signature)
        if kind is not None and now - kind.logged_at < self._interval:
            kind.suppressed += 1
            self._kinds.move_to_end(signature)
            return RepeatDecision(log=False, log_id=kind.log_id)
        log_id = new_log_id()
        repeated = kind.suppressed if kind is not None else 0
        previous = kind.log_id if kind is not None and repeated else None
        self._kinds[signature] = _Kind(logged_at=now, log_id=log_id)
        self._kinds.move_to_end(signature)
        while len(self._kinds) > _MAX_KINDS:
            self._kinds.popitem(last=False)
        return RepeatDecision(log=True, log_id=log_id, repeated=repeated, previous_log_id=previous)
