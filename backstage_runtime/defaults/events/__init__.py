"""Default ``events.service``: an in-process event bus, as Backstage's ``DefaultEventsService``.

Usage in a plugin's init::

    await events.subscribe(id="indexer", topics=["catalog.entity"], on_event=handle)
    await events.publish(topic="catalog.entity", event_payload={"ref": "component:default/a"})
"""

from ._bus import LocalEventBus
from ._events import EVENT_BUS_KEY, EventBusMode, PluginEventsService, read_event_bus_mode
from ._factory import events_service_factory

__all__ = [
    "EVENT_BUS_KEY",
    "EventBusMode",
    "LocalEventBus",
    "PluginEventsService",
    "events_service_factory",
    "read_event_bus_mode",
]
