"""The ``events`` plugin: the event bus between backend instances and HTTP ingress for webhooks
(Backstage's ``@backstage/plugin-events-backend``), and its ``events`` extension point."""

from ._body_parsers import parse_json_body
from ._bus_routes import DEFAULT_NOTIFY_TIMEOUT_MS, EVENTS_NOTIFY_TIMEOUT_HEADER
from ._database_store import DatabaseEventBusStore, EventWindow
from ._extension_point import (
    EventsExtensionPoint,
    HttpBodyParser,
    HttpBodyParseResult,
    RequestDetails,
    RequestRejectionDetails,
    RequestValidationContext,
    RequestValidator,
    events_extension_point,
)
from ._memory_store import MemoryEventBusStore
from ._plugin import NOTIFY_TIMEOUT_KEY, events_plugin
from ._store import MAX_BATCH_SIZE, EventBusStore, ListenerClosedError, Waiter

__all__ = [
    "DEFAULT_NOTIFY_TIMEOUT_MS",
    "EVENTS_NOTIFY_TIMEOUT_HEADER",
    "MAX_BATCH_SIZE",
    "NOTIFY_TIMEOUT_KEY",
    "DatabaseEventBusStore",
    "EventBusStore",
    "EventWindow",
    "EventsExtensionPoint",
    "HttpBodyParseResult",
    "HttpBodyParser",
    "ListenerClosedError",
    "MemoryEventBusStore",
    "RequestDetails",
    "RequestRejectionDetails",
    "RequestValidationContext",
    "RequestValidator",
    "Waiter",
    "events_extension_point",
    "events_plugin",
    "parse_json_body",
]
