"""Backstage's ``DefaultEventsService``: one bus per backend, one service per plugin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal

from ...api import Config
from ...api.errors import ConfigError, ServiceUnavailableError
from ...api.services.events import EventHandler, EventMetadata, EventParams
from ._bus import LocalEventBus
from ._in_flight import InFlight

__all__ = [
    "EVENT_BUS_KEY",
    "EventBusMode",
    "PluginEventsService",
    "bus_mode_warning",
    "read_event_bus_mode",
]

#: Where Backstage reads whether to use the events backend as a bus between instances.
EVENT_BUS_KEY: Final = "events.useEventBus"

EventBusMode = Literal["never", "always", "auto"]
_MODES: Final[tuple[EventBusMode, ...]] = ("never", "always", "auto")


def read_event_bus_mode(config: Config) -> EventBusMode | None:
    """``events.useEventBus``, or None when unset; any other value than ``never``, ``always``
    or ``auto`` is a :class:`ConfigError`.
    """
    value = config.get_optional_string(EVENT_BUS_KEY)
    if value is None:
        return None
    if value not in _MODES:
        raise ConfigError(
            f"Invalid {EVENT_BUS_KEY} config, must be one of {', '.join(_MODES)}, got '{value}'"
        )
    return value


class PluginEventsService:
    """The events service of one plugin: subscriber ids become ``<pluginId>.<id>``; the
    plugin's shutdown waits for the publishes it started and the deliveries it is handling.
    """

    def __init__(self, *, plugin_id: str, bus: LocalEventBus) -> None:
        self._plugin_id = plugin_id
        self._bus = bus
        #: The publishes this plugin started and the deliveries its subscribers are handling.
        self.in_flight = InFlight()

    async def publish(
        self, *, topic: str, event_payload: Any, metadata: EventMetadata | None = None
    ) -> None:
        """Deliver the event to every subscriber of ``topic`` in this backend."""
        if self._bus.closed:
            raise ServiceUnavailableError(
                f"Plugin '{self._plugin_id}' cannot publish to topic '{topic}': the events "
                "service is shutting down"
            )
        self.in_flight.enter()
        try:
            await self._bus.publish(
                EventParams(topic=topic, event_payload=event_payload, metadata=metadata)
            )
        finally:
            self.in_flight.exit()

    async def subscribe(self, *, id: str, topics: Sequence[str], on_event: EventHandler) -> None:
        """Subscribe ``on_event`` as ``<pluginId>.<id>`` to ``topics``."""
        # A bare string would subscribe to each of its characters.
        if isinstance(topics, str):
            raise TypeError(
                f"Subscriber '{self._plugin_id}.{id}' must pass topics as a list of strings, "
                f"not the string '{topics}'"
            )
        if not callable(on_event):
            raise TypeError(f"Subscriber '{self._plugin_id}.{id}': on_event is not callable")
        self._bus.subscribe(
            id=f"{self._plugin_id}.{id}",
            topics=list(topics),
            on_event=on_event,
            in_flight=self.in_flight,
        )

    async def shutdown(self) -> None:
        """Wait until this plugin's publishes and deliveries finished."""
        await self.in_flight.wait_idle()


def bus_mode_warning(mode: EventBusMode | None) -> str | None:
    """The start warning for ``events.useEventBus``: the bus between instances is not here yet."""
    if mode is None or mode == "never":
        return None
    return (
        f"Config key '{EVENT_BUS_KEY}' is '{mode}', but backstage-runtime does not implement the "
        "event bus between backend instances (the events backend) yet; events reach only the "
        "subscribers in this backend instance"
    )
