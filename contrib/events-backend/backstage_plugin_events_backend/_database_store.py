"""The bus store in the plugin's PostgreSQL database (Node's ``DatabaseEventBusStore``): one table
of events, one of subscriptions with a read cursor each, shared by every instance."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from backstage_runtime import EventParams, LoggerService, NotFoundError

from ._pg_listener import PUBLISH_CHANNEL, PgListener
from ._store import MAX_BATCH_SIZE, Waiter

__all__ = ["DatabaseEventBusStore", "EventWindow"]


@dataclass(frozen=True)
class EventWindow:
    """Which events the cleanup keeps (Node's defaults): every event younger than ``min_age``;
    beyond it only the newest ``max_count``; nothing older than ``max_age``."""

    min_age: timedelta = timedelta(minutes=10)
    max_age: timedelta = timedelta(days=1)
    max_count: int = 10_000


# Publishes take turns (until their commit) so that event ids become visible in id order: a
# reader's cursor then never passes an id that commits later. Node's store lets concurrent
# publishes commit out of order, and a subscriber reading between the two commits never gets
# the lower id; we differ here on purpose. Keyed by schema: buses in other schemas of the same
# database do not wait for each other.
_PUBLISH_TURN: Final = text(
    "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.event_bus_events'))"
)
# The event is stored only if some subscriber of its topic was not notified yet: the SELECT
# yields one row exactly when such a subscriber exists.
_PUBLISH: Final = text(
    """
    INSERT INTO event_bus_events (created_by, topic, data_json, notified_subscribers)
    SELECT CAST(:created_by AS text), CAST(:topic AS text), CAST(:data_json AS text),
           CAST(:notified AS text[])
    FROM event_bus_subscriptions
    WHERE NOT (id = ANY(CAST(:notified AS text[])))
      AND CAST(:topic AS text) = ANY(topics)
    HAVING count(*) > 0
    RETURNING id
    """
)
# Sent in the publishing transaction: PostgreSQL delivers it when that commits, so a woken poll
# always finds the event.
_NOTIFY: Final = text("SELECT pg_notify(:channel, :topic)")
_UPSERT: Final = text(
    """
    INSERT INTO event_bus_subscriptions (id, created_by, updated_at, topics, read_until)
    VALUES (:id, :created_by, now(), CAST(:topics AS text[]),
            COALESCE((SELECT max(id) FROM event_bus_events), 0))
    ON CONFLICT (id) DO UPDATE
    SET created_by = EXCLUDED.created_by, topics = EXCLUDED.topics,
        updated_at = EXCLUDED.updated_at
    """
)
# FOR UPDATE: consumers of the same subscription read one after the other, so each event goes
# to one of them.
_LOCK_SUBSCRIPTION: Final = text(
    "SELECT topics, read_until FROM event_bus_subscriptions WHERE id = :id FOR UPDATE"
)
# The newest event the read may take, read in its own statement first: every id up to it is
# committed (publishes commit in id order), so a cursor moved to it skips nothing.
_MAX_EVENT_ID: Final = text("SELECT max(id) FROM event_bus_events")
_SELECT_EVENTS: Final = text(
    """
    SELECT id, topic, data_json FROM event_bus_events
    WHERE id > :read_until AND id <= :max_id
      AND topic = ANY(CAST(:topics AS text[]))
      AND NOT (CAST(:id AS text) = ANY(COALESCE(notified_subscribers, '{}')))
    ORDER BY id ASC
    LIMIT :limit
    """
)
# With nothing to read the cursor still moves to the newest event (as Node's), so the next read
# does not scan events of other topics again.
_MOVE_CURSOR: Final = text("UPDATE event_bus_subscriptions SET read_until = :cursor WHERE id = :id")
_SUBSCRIPTION_TOPICS: Final = text("SELECT topics FROM event_bus_subscriptions WHERE id = :id")
_DELETE_OLD_EVENTS: Final = text(
    """
    DELETE FROM event_bus_events
    WHERE (id IN (SELECT id FROM event_bus_events ORDER BY id DESC OFFSET :max_count)
           AND created_at < now() - make_interval(secs => :min_age))
       OR created_at < now() - make_interval(secs => :max_age)
    """
)
_MIN_EVENT_ID: Final = text("SELECT min(id) FROM event_bus_events")
_DELETE_IDLE_SUBSCRIPTIONS: Final = text(
    "DELETE FROM event_bus_subscriptions WHERE updated_at < now() - make_interval(secs => :max_age)"
)
# The cursor names the last event read, so a subscriber still in the window may point at the
# event just before the oldest one kept.
_DELETE_STALE_SUBSCRIPTIONS: Final = text(
    "DELETE FROM event_bus_subscriptions WHERE read_until < :min_id - 1"
)


def _not_found(id: str) -> NotFoundError:
    return NotFoundError(f"Subscription with ID '{id}' not found")


class DatabaseEventBusStore:
    """Events in ``event_bus_events``, subscriptions in ``event_bus_subscriptions``, long polls
    woken through ``LISTEN``/``NOTIFY``. PostgreSQL only."""

    def __init__(
        self,
        engine: AsyncEngine,
        logger: LoggerService,
        *,
        window: EventWindow | None = None,
        keepalive_timeout: float = 10.0,
    ) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError(
                f"DatabaseEventBusStore only supports PostgreSQL, got '{engine.dialect.name}'"
            )
        self._engine = engine
        self._logger = logger
        self._window = window or EventWindow()
        self._listener = PgListener(engine, logger, keepalive_timeout=keepalive_timeout)

    async def publish(
        self, event: EventParams, notified_subscribers: Sequence[str], created_by: str
    ) -> str | None:
        """Insert ``event`` if a subscriber of its topic was not notified, and NOTIFY the other
        instances; its id, or None when nobody needs it."""
        data = {"payload": event.event_payload, "metadata": _plain(event.metadata)}
        async with self._engine.begin() as conn:
            await conn.execute(_PUBLISH_TURN)
            event_id = await conn.scalar(
                _PUBLISH,
                {
                    "created_by": created_by,
                    "topic": event.topic,
                    "data_json": json.dumps(data),
                    "notified": list(notified_subscribers),
                },
            )
            if event_id is None:
                return None
            await conn.execute(_NOTIFY, {"channel": PUBLISH_CHANNEL, "topic": event.topic})
        return str(event_id)

    async def upsert_subscription(self, id: str, topics: Sequence[str], created_by: str) -> None:
        """Create ``id`` reading from the newest event on, or update its topics."""
        async with self._engine.begin() as conn:
            await conn.execute(
                _UPSERT, {"id": id, "created_by": created_by, "topics": list(topics)}
            )

    async def read_subscription(self, id: str) -> list[EventParams]:
        """The next unread events of ``id``, its cursor moved past them in the same transaction."""
        async with self._engine.begin() as conn:
            row = (await conn.execute(_LOCK_SUBSCRIPTION, {"id": id})).first()
            if row is None:
                raise _not_found(id)
            topics, read_until = row
            max_id = await conn.scalar(_MAX_EVENT_ID)
            if max_id is None or max_id <= read_until:
                return []
            rows = (
                await conn.execute(
                    _SELECT_EVENTS,
                    {
                        "id": id,
                        "read_until": read_until,
                        "max_id": max_id,
                        "topics": list(topics or []),
                        "limit": MAX_BATCH_SIZE,
                    },
                )
            ).all()
            cursor = rows[-1][0] if rows else max_id
            await conn.execute(_MOVE_CURSOR, {"id": id, "cursor": cursor})
        events = []
        for _event_id, topic, data_json in rows:
            data = json.loads(data_json)
            events.append(
                EventParams(
                    topic=topic, event_payload=data.get("payload"), metadata=data.get("metadata")
                )
            )
        return events

    async def listen(self, id: str) -> AbstractContextManager[Waiter]:
        """A waiter for the topics of ``id``, woken by a NOTIFY from any instance."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(_SUBSCRIPTION_TOPICS, {"id": id})).first()
        if row is None:
            raise _not_found(id)
        return await self._listener.waiting(list(row[0] or []))

    async def cleanup(self) -> None:
        """Delete the events outside the window, then the subscriptions that fell behind it
        (Node's cleanup task; failures are logged, never raised)."""
        window = self._window
        try:
            async with self._engine.begin() as conn:
                deleted = (
                    await conn.execute(
                        _DELETE_OLD_EVENTS,
                        {
                            "max_count": window.max_count,
                            "min_age": window.min_age.total_seconds(),
                            "max_age": window.max_age.total_seconds(),
                        },
                    )
                ).rowcount
            if deleted > 0:
                self._logger.info(f"Event cleanup resulted in {deleted} old events being deleted")
        except Exception as error:
            self._logger.error("Event cleanup failed", error)
        try:
            async with self._engine.begin() as conn:
                min_id = await conn.scalar(_MIN_EVENT_ID)
                if min_id is None:
                    # No events left at all: only subscriptions idle for the whole window go.
                    result = await conn.execute(
                        _DELETE_IDLE_SUBSCRIPTIONS, {"max_age": window.max_age.total_seconds()}
                    )
                else:
                    result = await conn.execute(_DELETE_STALE_SUBSCRIPTIONS, {"min_id": min_id})
            if result.rowcount > 0:
                self._logger.info(
                    f"Subscription cleanup resulted in {result.rowcount} stale subscribers "
                    "being deleted"
                )
        except Exception as error:
            self._logger.error("Subscription cleanup failed", error)

    async def keepalive(self) -> None:
        """Check the listening connection (see :meth:`PgListener.keepalive`)."""
        await self._listener.keepalive()

    async def close(self) -> None:
        """Answer every waiting poll and close the listening connection."""
        await self._listener.close()


def _plain(metadata: Any) -> Any:
    return None if metadata is None else dict(metadata)
