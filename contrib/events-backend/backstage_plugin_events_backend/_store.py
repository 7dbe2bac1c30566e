"""What the bus routes need of a store, and the waiting of long polls that every store shares."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Final, Protocol

import anyio

from backstage_runtime import EventParams

__all__ = [
    "MAX_BATCH_SIZE",
    "EventBusStore",
    "ListenerClosedError",
    "Waiter",
    "Waiters",
]

#: The most events one read of a subscription returns (Node's ``MAX_BATCH_SIZE``).
MAX_BATCH_SIZE: Final = 10


class ListenerClosedError(Exception):
    """A long poll's wait ended without news: the store is closing or lost its notifications."""


@dataclass(eq=False)
class Waiter:
    """One long poll waiting for an event on one of ``topics``."""

    topics: frozenset[str]
    woken: anyio.Event = field(default_factory=anyio.Event)
    #: The topic that woke it; None while waiting or when it was woken without news.
    topic: str | None = None
    #: Why it was woken without news (the store closed, the listener connection failed).
    failure: str | None = None

    async def wait(self) -> str:
        """Wait for news; the topic of the event. Raises :class:`ListenerClosedError` when the
        wait ends without news."""
        await self.woken.wait()
        if self.topic is None:
            raise ListenerClosedError(self.failure or "Listener closed")
        return self.topic


class Waiters:
    """The long polls waiting in this process, woken by topic."""

    def __init__(self) -> None:
        self._waiting: set[Waiter] = set()
        self._closed = False

    def __len__(self) -> int:
        return len(self._waiting)

    @contextmanager
    def waiting(self, topics: Sequence[str]) -> Iterator[Waiter]:
        """A waiter for ``topics``, registered for the block (set up *before* the read, so that
        an event published while reading still wakes it)."""
        waiter = Waiter(frozenset(topics))
        if self._closed:
            waiter.failure = "Listener is shutting down"
            waiter.woken.set()
            yield waiter
            return
        self._waiting.add(waiter)
        try:
            yield waiter
        finally:
            self._waiting.discard(waiter)

    def notify(self, topic: str) -> None:
        """Wake every waiter of ``topic`` (each is woken once and then leaves)."""
        for waiter in list(self._waiting):
            if topic in waiter.topics:
                waiter.topic = topic
                waiter.woken.set()
                self._waiting.discard(waiter)

    def fail_all(self, reason: str) -> None:
        """Wake every waiter without news: they answer their poll and the client reads again."""
        for waiter in list(self._waiting):
            waiter.failure = reason
            waiter.woken.set()
        self._waiting.clear()

    def close(self) -> None:
        """Wake every waiter and answer later ones at once (the backend is stopping)."""
        self._closed = True
        self.fail_all("Listener is shutting down")


class EventBusStore(Protocol):
    """Where the bus keeps events and subscriptions (Node's ``EventBusStore``)."""

    async def publish(
        self, event: EventParams, notified_subscribers: Sequence[str], created_by: str
    ) -> str | None:
        """Store ``event`` if a subscriber of its topic other than ``notified_subscribers``
        exists; its id, or None when nobody needs it."""

    async def upsert_subscription(self, id: str, topics: Sequence[str], created_by: str) -> None:
        """Create the subscription ``id`` reading from the newest event on, or change the topics
        of an existing one (its read cursor stays)."""

    async def read_subscription(self, id: str) -> list[EventParams]:
        """Up to :data:`MAX_BATCH_SIZE` unread events of ``id`` (its cursor moves past them).
        Raises :class:`~backstage_runtime.NotFoundError` for an unknown subscription."""

    async def listen(self, id: str) -> AbstractContextManager[Waiter]:
        """A context manager yielding a :class:`Waiter` for the topics of ``id``. Raises
        :class:`~backstage_runtime.NotFoundError` for an unknown subscription."""

    async def close(self) -> None:
        """Wake every long poll and stop listening (the backend is stopping)."""
