"""``events_service_ref``: the ref of the events service (not a core service in Backstage)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ._refs import ServiceRef, create_service_ref

if TYPE_CHECKING:
    from .services.events import EventsService

__all__ = ["events_service_ref"]

#: The events service, ``events.service`` (plugin-scoped), Backstage's ``eventsServiceRef`` from
#: ``@backstage/plugin-events-node``. Backstage keeps it out of ``coreServices``, so it is not in
#: :data:`core_services`; the default backend installs a factory for it all the same.
events_service_ref: Final[ServiceRef[EventsService]] = create_service_ref(id="events.service")
