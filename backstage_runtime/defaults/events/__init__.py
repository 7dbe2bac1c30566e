"""Default ``events.service``: an in-process event bus, as Backstage's ``DefaultEventsService``,
plus the events backend's bus between backend instances (``events.useEventBus``).

Usage in a plugin's init::

    await events.subscribe(id="indexer", topics=["catalog.entity"], on_event=handle)
    await events.publish(topic="catalog.entity", event_payload={"ref": "component:default/a"})
"""

from ._bus import LocalEventBus
from ._bus_client import EVENTS_NOTIFY_TIMEOUT_HEADER, EventBusClient
from ._events import PluginEventsService
from ._factory import events_service_factory
from ._mode import EVENT_BUS_KEY, EventBusMode, read_event_bus_mode
from ._remote import POLL_BACKOFF_FACTOR, POLL_BACKOFF_MAX, POLL_BACKOFF_START, RemoteBus

__all__ = [
    "EVENTS_NOTIFY_TIMEOUT_HEADER",
    "EVENT_BUS_KEY",
    "POLL_BACKOFF_FACTOR",
    "POLL_BACKOFF_MAX",
    "POLL_BACKOFF_START",
    "EventBusClient",
    "EventBusMode",
    "LocalEventBus",
    "PluginEventsService",
    "RemoteBus",
    "events_service_factory",
    "read_event_bus_mode",
]
