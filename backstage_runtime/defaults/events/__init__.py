"""Default ``events.service``: an in-process event bus, as Backstage's ``DefaultEventsService``,
plus the events backend's bus between backend instances (``events.useEventBus``).

Usage in a plugin's init::

    await events.subscribe(id="indexer", topics=["catalog.entity"], on_event=handle)
    await events.publish(topic="catalog.entity", event_payload={"ref": "component:default/a"})
"""

from typing import TYPE_CHECKING

from ..._lazy import lazy_exports
from ._factory import events_service_factory

# The rest loads on first use (backstage_runtime._lazy): a backend imports this package for its
# factory, and builds the service only when something depends on it.
if TYPE_CHECKING:
    from ._bus import LocalEventBus
    from ._bus_client import EVENTS_NOTIFY_TIMEOUT_HEADER, EventBusClient
    from ._events import PluginEventsService
    from ._mode import EVENT_BUS_KEY, EventBusMode, read_event_bus_mode
    from ._remote import POLL_BACKOFF_FACTOR, POLL_BACKOFF_MAX, POLL_BACKOFF_START, RemoteBus
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "LocalEventBus": "._bus",
            "EVENTS_NOTIFY_TIMEOUT_HEADER": "._bus_client",
            "EventBusClient": "._bus_client",
            "PluginEventsService": "._events",
            "EVENT_BUS_KEY": "._mode",
            "EventBusMode": "._mode",
            "read_event_bus_mode": "._mode",
            "POLL_BACKOFF_FACTOR": "._remote",
            "POLL_BACKOFF_MAX": "._remote",
            "POLL_BACKOFF_START": "._remote",
            "RemoteBus": "._remote",
        },
    )

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
