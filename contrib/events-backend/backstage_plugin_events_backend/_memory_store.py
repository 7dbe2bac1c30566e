"""The bus store kept in this process's memory (Node's ``MemoryEventBusStore``): what the events
plugin uses when its database is not PostgreSQL."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Final

from backstage_runtime import EventParams, NotFoundError

from ._store import MAX_BATCH_SIZE, Waiter, Waiters

__all__ = ["MAX_EVENTS_DEFAULT", "MemoryEventBusStore"]

#: How many events the memory store keeps; the oldest is dropped past it (Node's default).
MAX_EVENTS_DEFAULT: Final = 1_000


@dataclass(frozen=True)
class _Stored:
    seq: int
    event: EventParams
    notified: frozenset[str]


@dataclass
class _Subscription:
    topics: frozenset[str]
    # The sequence number of the last event this subscription read.
    seq: int


class MemoryEventBusStore:
    """Events and subscriptions of one process; lost when it stops, not shared with others."""

    def __init__(self, *, max_events: int = MAX_EVENTS_DEFAULT) -> None:
        self._events: deque[_Stored] = deque()
        self._max_events = max_events
        self._subscriptions: dict[str, _Subscription] = {}
        self._waiters = Waiters()

    def _max_seq(self) -> int:
        return self._events[-1].seq if self._events else 0

    async def publish(
        self, event: EventParams, notified_subscribers: Sequence[str], created_by: str
    ) -> str | None:
        """Keep ``event`` if some subscriber of its topic was not notified; its id or None."""
        notified = frozenset(notified_subscribers)
        wanted = any(
            event.topic in sub.topics and sid not in notified
            for sid, sub in self._subscriptions.items()
        )
        if not wanted:
            return None
        seq = self._max_seq() + 1
        self._events.append(_Stored(seq, event, notified))
        self._waiters.notify(event.topic)
        if len(self._events) > self._max_events:
            self._events.popleft()
        return str(seq)

    async def upsert_subscription(self, id: str, topics: Sequence[str], created_by: str) -> None:
        """Create ``id`` at the newest event, or replace the topics of an existing one."""
        existing = self._subscriptions.get(id)
        if existing is not None:
            existing.topics = frozenset(topics)
            return
        self._subscriptions[id] = _Subscription(frozenset(topics), self._max_seq())

    async def read_subscription(self, id: str) -> list[EventParams]:
        """The next unread events of ``id``; its cursor moves past them."""
        sub = self._subscription(id)
        batch: list[_Stored] = []
        for stored in self._events:
            if len(batch) == MAX_BATCH_SIZE:
                break
            if (
                stored.seq > sub.seq
                and stored.event.topic in sub.topics
                and id not in stored.notified
            ):
                batch.append(stored)
        if batch:
            sub.seq = batch[-1].seq
        return [stored.event for stored in batch]

    async def listen(self, id: str) -> AbstractContextManager[Waiter]:
        """A waiter for the topics of ``id``."""
        return self._waiters.waiting(sorted(self._subscription(id).topics))

    async def close(self) -> None:
        """Wake every long poll."""
        self._waiters.close()

    def _subscription(self, id: str) -> _Subscription:
        sub = self._subscriptions.get(id)
        if sub is None:
            # Node's MemoryEventBusStore words it so, without the id.
            raise NotFoundError("Subscription not found")
        return sub
