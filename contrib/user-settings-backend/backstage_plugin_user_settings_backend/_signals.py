"""Signals: messages pushed to users' browsers, published through the events service.

Backstage's ``@backstage/plugin-signals-node`` in the small part this plugin needs. Its default
``SignalsService`` does nothing but publish each signal on the events topic ``signals``, where
the signals backend (the one that holds the browsers' websockets) picks it up; so the same
publish here reaches a Node signals backend that shares the events bus. backstage-runtime has no
signals service of its own yet: the ref lives here until it does, under Backstage's id, so a
deployment can replace it with ``backend.add(factory)`` as in Backstage.
"""

from __future__ import annotations

from typing import Final, Protocol

from backstage_runtime import (
    EventsService,
    JsonObject,
    ServiceFactory,
    ServiceRef,
    create_service_factory,
    create_service_ref,
    events_service_ref,
)

__all__ = [
    "SIGNALS_TOPIC",
    "DefaultSignalsService",
    "SignalsService",
    "signals_service_ref",
    "user_recipients",
]

#: The events topic Backstage's signals service publishes on.
SIGNALS_TOPIC: Final = "signals"


def user_recipients(*entity_refs: str) -> JsonObject:
    """Backstage's ``{type: 'user', entityRef}`` recipients: one ref as a string, several as a
    list (the signals backend sends to the users those refs own or are).
    """
    if not entity_refs:
        raise ValueError("user_recipients() needs at least one entity ref")
    return {
        "type": "user",
        "entityRef": entity_refs[0] if len(entity_refs) == 1 else list(entity_refs),
    }


class SignalsService(Protocol):
    """Publishes signals; Backstage's ``SignalsService``."""

    async def publish(self, *, recipients: JsonObject, channel: str, message: JsonObject) -> None:
        """Send ``message`` on ``channel`` to ``recipients`` (:func:`user_recipients`, or
        ``{"type": "broadcast"}`` for every connected user).
        """


class DefaultSignalsService:
    """The default signals service: each signal is one event on the ``signals`` topic."""

    def __init__(self, events: EventsService) -> None:
        self._events = events

    async def publish(self, *, recipients: JsonObject, channel: str, message: JsonObject) -> None:
        """Publish the signal, in Backstage's ``SignalPayload`` shape, as the event payload."""
        await self._events.publish(
            topic=SIGNALS_TOPIC,
            event_payload={"recipients": recipients, "channel": channel, "message": message},
        )


def _default_factory(ref: ServiceRef[SignalsService]) -> ServiceFactory[SignalsService]:
    def factory(*, events: EventsService) -> SignalsService:
        return DefaultSignalsService(events)

    return create_service_factory(service=ref, deps={"events": events_service_ref}, factory=factory)


#: ``signals.service`` (plugin-scoped), Backstage's ``signalsServiceRef``; by default a
#: :class:`DefaultSignalsService` over the plugin's events service.
signals_service_ref: Final[ServiceRef[SignalsService]] = create_service_ref(
    id="signals.service", default_factory=_default_factory
)
