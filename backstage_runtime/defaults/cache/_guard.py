"""What the cache does when its store fails: act as a miss, log rarely, count, recover."""

from __future__ import annotations

import time
from collections.abc import Callable

from ...api import LoggerService

__all__ = ["DEFAULT_RETRY_INTERVAL", "DEFAULT_WARNING_INTERVAL", "CacheMetrics", "StoreGuard"]

#: Seconds between attempts to reach a store that failed; in between, operations are skipped so
#: that a hung store costs one timeout per interval instead of one per request.
DEFAULT_RETRY_INTERVAL = 1.0
#: At most one warning per this many seconds while the store keeps failing.
DEFAULT_WARNING_INTERVAL = 60.0


class CacheMetrics:
    """Counters of one backend's cache store, readable at any time (all plugins together).

    ``store_errors``: operations the store failed (reads became misses, writes were dropped);
    ``skipped_operations``: operations not sent because the store was known to be down;
    ``outages``: times the store went from reachable to unreachable; ``recoveries``: times it
    came back.
    """

    __slots__ = ("outages", "recoveries", "skipped_operations", "store_errors")

    def __init__(self) -> None:
        self.store_errors = 0
        self.skipped_operations = 0
        self.outages = 0
        self.recoveries = 0

    def snapshot(self) -> dict[str, int]:
        """The counters as a dict (camelCase names, as Backstage logs fields)."""
        return {
            "storeErrors": self.store_errors,
            "skippedOperations": self.skipped_operations,
            "outages": self.outages,
            "recoveries": self.recoveries,
        }

    def __repr__(self) -> str:
        return f"CacheMetrics({self.snapshot()})"


class StoreGuard:
    """Tracks whether the store is reachable, for every plugin of a backend.

    After an outage error the store counts as down: operations are skipped (reads miss, writes
    are dropped) until ``retry_interval`` has passed, then one operation probes it again; the
    first success marks it up. Every change of state is logged: a warning when an outage starts
    and an info line when it ends, however soon after the previous one (an operator must be able
    to tell a second outage from the first going on). What repeats is rate-limited to one warning
    per ``warning_interval``: that the store is still unreachable, or that single operations
    failed; each warning counts the failures that were not logged since the last one.
    """

    def __init__(
        self,
        store_name: str,
        logger: LoggerService,
        *,
        retry_interval: float = DEFAULT_RETRY_INTERVAL,
        warning_interval: float = DEFAULT_WARNING_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metrics = CacheMetrics()
        #: True while the store is considered unreachable (checked on every operation).
        self.down = False
        self._store_name = store_name
        self._logger = logger
        self._retry_interval = retry_interval
        self._warning_interval = warning_interval
        self._clock = clock
        self._down_since = 0.0
        self._retry_at = 0.0
        self._last_warning: float | None = None
        self._failed_since_warning = 0
        self._failed_in_outage = 0

    def may_try(self) -> bool:
        """Whether to send an operation to a store that is down (False: skip it).

        Only one operation per retry interval gets through, so concurrent requests do not all
        wait on a hung store.
        """
        now = self._clock()
        if now >= self._retry_at:
            self._retry_at = now + self._retry_interval
            return True
        self.metrics.skipped_operations += 1
        return False

    def failed(self, operation: str, error: BaseException, *, outage: bool) -> None:
        """Record that ``operation`` failed with ``error``; ``outage``: the store is unreachable."""
        self.metrics.store_errors += 1
        now = self._clock()
        if outage:
            self._retry_at = now + self._retry_interval
            if not self.down:
                self.down = True
                self._down_since = now
                self._failed_in_outage = 1
                self.metrics.outages += 1
                self._warn(
                    now,
                    f"Cache store '{self._store_name}' is unreachable; cache reads act as misses "
                    "and writes are dropped until it is back",
                    operation,
                    error,
                )
                return
            self._failed_in_outage += 1
        if self._last_warning is not None and now - self._last_warning < self._warning_interval:
            self._failed_since_warning += 1
            return
        if self.down:
            message = f"Cache store '{self._store_name}' is still unreachable"
        else:
            message = f"Cache operation '{operation}' failed on store '{self._store_name}'"
        self._warn(now, message, operation, error)

    def _warn(self, now: float, message: str, operation: str, error: BaseException) -> None:
        self._last_warning = now
        self._logger.warn(
            message,
            {
                "store": self._store_name,
                "operation": operation,
                "error": f"{type(error).__name__}: {error}",
                "failedSinceLastWarning": self._failed_since_warning,
            },
        )
        self._failed_since_warning = 0

    def succeeded(self) -> None:
        """Record a successful operation on a store that was down (logged as its recovery)."""
        if not self.down:
            return
        self.down = False
        self.metrics.recoveries += 1
        self._logger.info(
            f"Cache store '{self._store_name}' is reachable again",
            {
                "store": self._store_name,
                "downSeconds": round(self._clock() - self._down_since, 3),
                "failedOperations": self._failed_in_outage,
            },
        )
