"""Backstage's ``DefaultEventsService``: one bus per backend, one service per plugin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anyio

from ...api import BackgroundTasksService
from ...api.errors import ServiceUnavailableError
from ...api.services.events import EventHandler, EventMetadata, EventParams
from ._bus import LocalEventBus
from ._in_flight import InFlight
from ._mode import EVENT_BUS_KEY, EventBusMode, read_event_bus_mode

if TYPE_CHECKING:
    # With aiohttp under it: only a service that talks to the events backend has one.
    from ._remote import RemoteBus

__all__ = [
    "EVENT_BUS_KEY",
    "EventBusMode",
    "PluginEventsService",
    "read_event_bus_mode",
]


class PluginEventsService:
    """The events service of one plugin: subscriber ids become ``<pluginId>.<id>``; the
    plugin's shutdown waits for the publishes it started and the deliveries it is handling.

    With ``remote`` (``events.useEventBus`` other than ``never``) publishes are also sent to
    the events backend and each subscription long-polls it in a background task; the
    plugin's shutdown cancels those polls (none stays open) after their deliveries finished.
    """

    def __init__(
        self,
        *,
        plugin_id: str,
        bus: LocalEventBus,
        remote: RemoteBus | None = None,
        background_tasks: BackgroundTasksService | None = None,
    ) -> None:
        if remote is not None and background_tasks is None:
            raise ValueError("A remote event bus needs background tasks to poll in")
        self._plugin_id = plugin_id
        self._bus = bus
        self._remote = remote
        self._background_tasks = background_tasks
        self._closing = False
        self._polls: set[anyio.CancelScope] = set()
        #: The publishes this plugin started and the deliveries its subscribers are handling.
        self.in_flight = InFlight()
        # The poll tasks still running (their shutdown waits until none is).
        self._polling = InFlight()

    async def publish(
        self, *, topic: str, event_payload: Any, metadata: EventMetadata | None = None
    ) -> None:
        """Deliver the event to every subscriber of ``topic`` in this backend, then hand it to
        the events backend (with the ids of those already notified) when it is in use."""
        if self._closing:
            raise ServiceUnavailableError(
                f"Plugin '{self._plugin_id}' cannot publish to topic '{topic}': the events "
                "service is shutting down"
            )
        self.in_flight.enter()
        try:
            event = EventParams(topic=topic, event_payload=event_payload, metadata=metadata)
            notified = await self._bus.publish(event)
            if self._remote is not None:
                await self._remote.publish(event, notified)
        finally:
            self.in_flight.exit()

    async def subscribe(self, *, id: str, topics: Sequence[str], on_event: EventHandler) -> None:
        """Subscribe ``on_event`` as ``<pluginId>.<id>`` to ``topics`` (and, when the events
        backend is in use, start polling it for that subscription; this does not wait)."""
        # A bare string would subscribe to each of its characters.
        if isinstance(topics, str):
            raise TypeError(
                f"Subscriber '{self._plugin_id}.{id}' must pass topics as a list of strings, "
                f"not the string '{topics}'"
            )
        if not callable(on_event):
            raise TypeError(f"Subscriber '{self._plugin_id}.{id}': on_event is not callable")
        subscription_id = f"{self._plugin_id}.{id}"
        topic_list = list(topics)
        self._bus.subscribe(
            id=subscription_id, topics=topic_list, on_event=on_event, in_flight=self.in_flight
        )
        remote = self._remote
        if remote is None or remote.client is None or self._closing:
            return
        assert self._background_tasks is not None
        scope = anyio.CancelScope()
        self._polls.add(scope)
        self._polling.enter()

        async def poll() -> None:
            try:
                with scope:
                    await remote.poll(subscription_id, topic_list, on_event, self.in_flight)
            finally:
                self._polls.discard(scope)
                self._polling.exit()

        self._background_tasks.start_soon(poll, name=f"events poll {subscription_id}")

    async def shutdown(self) -> None:
        """Stop polling (an open long poll is cancelled and its connection closed), then wait
        until this plugin's publishes and deliveries finished."""
        self._closing = True
        for scope in list(self._polls):
            scope.cancel()
        try:
            await self._polling.wait_idle()
            await self.in_flight.wait_idle()
        finally:
            # Only left running when this hook was cancelled at its timeout: a handler that
            # never returns must not hold the backend's stop for good.
            if self._remote is not None:
                self._remote.abandon_deliveries()
