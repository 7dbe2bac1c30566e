"""The in-process event bus of one backend, shared by the events services of its plugins."""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio

from ...api import LoggerService
from ...api.services.events import EventHandler, EventParams
from ._in_flight import InFlight

__all__ = ["LocalEventBus"]


@dataclass(frozen=True)
class _Subscription:
    id: str
    on_event: EventHandler
    # The subscriber plugin's counter: its shutdown waits for the deliveries it is handling.
    in_flight: InFlight


def _json(value: Any) -> str:
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return repr(value)


class LocalEventBus:
    """Delivers each event to the subscribers of its topic in this process (Backstage's
    ``LocalEventBus``): concurrently, each failure logged and isolated, nothing persisted.
    """

    def __init__(self, logger: LoggerService) -> None:
        self._logger = logger
        self._subscriptions: dict[str, list[_Subscription]] = {}

    def subscribe(
        self, *, id: str, topics: Sequence[str], on_event: EventHandler, in_flight: InFlight
    ) -> None:
        """Add ``on_event`` as subscriber ``id`` of each of ``topics``."""
        subscription = _Subscription(id, on_event, in_flight)
        for topic in topics:
            self._subscriptions.setdefault(topic, []).append(subscription)

    async def publish(self, event: EventParams) -> list[str]:
        """Deliver ``event`` to every subscriber of its topic; the ids of those notified."""
        self._logger.debug(
            f"Event received: topic={event.topic}, metadata={_json(event.metadata)}, "
            f"payload={_json(event.event_payload)}"
        )
        # A copy: a subscriber subscribing while we deliver gets the next event, not this one.
        subscriptions = list(self._subscriptions.get(event.topic, ()))
        if not subscriptions:
            return []
        for subscription in subscriptions:
            subscription.in_flight.enter()
        try:
            async with anyio.create_task_group() as group:
                for subscription in subscriptions:
                    group.start_soon(self._deliver, subscription, event)
        finally:
            for subscription in subscriptions:
                subscription.in_flight.exit()
        return [subscription.id for subscription in subscriptions]

    async def _deliver(self, subscription: _Subscription, event: EventParams) -> None:
        try:
            result = subscription.on_event(event)
            if inspect.isawaitable(result):
                await result
        except Exception as error:
            self._logger.warn(
                f'Subscriber "{subscription.id}" failed to process event for topic "{event.topic}"',
                error,
            )
