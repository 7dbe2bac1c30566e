"""``events.service``: publish events to topics and subscribe to them (Backstage's
``@backstage/plugin-events-node``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..._public import publish_lazy_module

__all__ = [
    "EventHandler",
    "EventMetadata",
    "EventParams",
    "EventsService",
    "EventsServiceSubscribeOptions",
]

#: Event metadata, as Backstage's ``Record<string, string | string[] | undefined>`` (for events
#: received over HTTP these are typically the request headers).
EventMetadata = Mapping[str, str | Sequence[str] | None]


@dataclass(frozen=True)
class EventParams:
    """One event: its ``topic``, its ``event_payload`` and optional ``metadata``."""

    topic: str
    event_payload: Any
    metadata: EventMetadata | None = None


#: What a subscriber runs for each event of its topics: ``async def on_event(event): ...``
#: (a plain function works too).
EventHandler = Callable[[EventParams], Awaitable[None] | None]


@dataclass(frozen=True)
class EventsServiceSubscribeOptions:
    """A subscription: the subscriber ``id``, the ``topics`` it wants and its ``on_event``."""

    id: str
    topics: tuple[str, ...]
    on_event: EventHandler = field(repr=False)


class EventsService(Protocol):
    """Publishes events to the subscribers of their topic and registers subscribers.

    Each plugin gets its own instance; every instance of one backend shares one in-process bus.
    """

    async def publish(
        self, *, topic: str, event_payload: Any, metadata: EventMetadata | None = None
    ) -> None:
        """Deliver an event to every subscriber of ``topic``, concurrently, and return once each
        has handled it. A failing subscriber is logged and does not affect the others; publishing
        is refused once the backend's shutdown began.
        """

    async def subscribe(self, *, id: str, topics: Sequence[str], on_event: EventHandler) -> None:
        """Call ``on_event`` for every event published to one of ``topics`` from now on.

        ``id`` names the subscriber in logs; it is prefixed with the plugin id
        (``<pluginId>.<id>``).
        """


# Loaded on first use (backstage_runtime.api is lazy for it): the names take their public module
# here, however this module was first imported.
publish_lazy_module(globals())
