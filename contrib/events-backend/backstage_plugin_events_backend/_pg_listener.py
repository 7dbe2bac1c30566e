"""One PostgreSQL connection per process that ``LISTEN``s for published events and wakes the long
polls of this process (Node's ``DatabaseEventBusListener``): a publish on any instance wakes the
polls on every instance sharing the database."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any, Final

import anyio
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backstage_runtime import ForwardedError, LoggerService

from ._store import Waiter, Waiters

__all__ = ["KEEPALIVE_INTERVAL", "PUBLISH_CHANNEL", "PgListener"]

#: The ``NOTIFY`` channel a publish sends the event's topic on (Node's ``event_bus_publish``).
PUBLISH_CHANNEL: Final = "event_bus_publish"
#: How often the listening connection is checked (Node's ``KEEPALIVE_INTERVAL_MS``).
KEEPALIVE_INTERVAL: Final = timedelta(seconds=60)


class PgListener:
    """Opened on the first long poll; when the connection is lost every waiting poll is answered
    (its client reads again) and the next poll opens a new one."""

    def __init__(
        self, engine: AsyncEngine, logger: LoggerService, *, keepalive_timeout: float = 10.0
    ) -> None:
        self._engine = engine
        self._logger = logger
        self._keepalive_timeout = keepalive_timeout
        self._waiters = Waiters()
        self._lock = anyio.Lock()
        self._conn: AsyncConnection | None = None
        self._driver: Any = None
        self._closed = False

    async def waiting(self, topics: Sequence[str]) -> AbstractContextManager[Waiter]:
        """A waiter for ``topics``, once this process listens."""
        await self._ensure_connection()
        return self._waiters.waiting(topics)

    async def _ensure_connection(self) -> None:
        async with self._lock:
            if self._closed:
                return  # the waiter is answered at once (the waiters are closed)
            if self._driver is not None and not self._driver.is_closed():
                return
            await self._drop_connection()
            conn = await self._engine.connect()
            try:
                raw = await conn.get_raw_connection()
                driver: Any = raw.driver_connection  # asyncpg's Connection
                await driver.add_listener(PUBLISH_CHANNEL, self._on_notification)
                driver.add_termination_listener(self._on_termination)
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await conn.invalidate()
                    await conn.close()
                raise
            self._conn, self._driver = conn, driver

    def _on_notification(self, _connection: Any, _pid: int, _channel: str, topic: str) -> None:
        self._waiters.notify(topic)

    def _on_termination(self, _connection: Any) -> None:
        if self._closed:
            return
        # Not reconnected here: the polls answered now read again, and their next wait
        # opens a new connection (as Node's listener does).
        self._logger.error("Listener connection failed, notifying all listeners")
        self._driver = None
        self._waiters.fail_all("Listener connection failed")

    async def keepalive(self) -> None:
        """Query the listening connection: one that fails or does not answer within the
        keepalive timeout (a peer gone without a word: no notification would ever come) is
        dropped, its waiting polls are answered, and the next poll listens on a new one."""
        driver = self._driver
        if driver is None or self._closed:
            return
        try:
            with anyio.fail_after(self._keepalive_timeout):
                await driver.fetchval("SELECT 1")
            return
        except Exception as error:
            failure: Exception = error
        async with self._lock:
            if self._driver is not driver:
                return  # already replaced
            self._logger.error(
                "Listener connection failed, notifying all listeners",
                ForwardedError("Keepalive failed", failure),
            )
            await self._drop_connection()
            self._waiters.fail_all("Listener connection failed")

    async def _drop_connection(self) -> None:
        conn, driver = self._conn, self._driver
        self._conn = self._driver = None
        if conn is None:
            return
        try:
            if driver is not None and not driver.is_closed():
                driver.remove_termination_listener(self._on_termination)
            # A connection that LISTENs must not go back to the pool for others to use; one
            # whose peer is gone must not hold the caller either.
            with anyio.move_on_after(5):
                await conn.invalidate()
                await conn.close()
        except Exception as error:
            self._logger.warn("Listener failed to destroy connection", error)

    async def close(self) -> None:
        """Answer every waiting poll and close the connection."""
        self._closed = True
        self._waiters.close()
        async with self._lock:
            await self._drop_connection()
