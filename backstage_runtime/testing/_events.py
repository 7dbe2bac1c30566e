"""``mock_services.events``: an in-memory events service that records what is published."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..api import PluginMetadataService, ServiceFactory, core_services, create_service_factory
from ..api._events_service_ref import events_service_ref
from ..api.services.events import (
    EventHandler,
    EventMetadata,
    EventParams,
    EventsService,
    EventsServiceSubscribeOptions,
)
from ._service_mock import ServiceMock, build_service_mock

__all__ = ["MockEventsService", "SubscriberFailure", "mock_events"]


@dataclass(frozen=True)
class SubscriberFailure:
    """A subscriber that raised while handling an event."""

    subscriber_id: str
    event: EventParams
    error: Exception


@dataclass
class _Hub:
    published: list[EventParams] = field(default_factory=list)
    subscriptions: list[EventsServiceSubscribeOptions] = field(default_factory=list)
    failures: list[SubscriberFailure] = field(default_factory=list)


class MockEventsService:
    """An events service for tests: every instance made from one ``mock_services.events()``
    shares one in-memory bus, records each published event in :attr:`published`, delivers it
    to the subscribers of its topic one after the other, and records (rather than raises) a
    subscriber's failure in :attr:`failures`, as the default service logs and isolates it.
    """

    def __init__(self, plugin_id: str = "test", *, _hub: _Hub | None = None) -> None:
        self._plugin_id = plugin_id
        self._hub = _hub if _hub is not None else _Hub()

    @property
    def published(self) -> list[EventParams]:
        """Every event published through this bus, by any plugin, in order."""
        return self._hub.published

    @property
    def subscriptions(self) -> list[EventsServiceSubscribeOptions]:
        """Every subscription, with its ``<pluginId>.<id>`` id."""
        return self._hub.subscriptions

    @property
    def failures(self) -> list[SubscriberFailure]:
        """Every subscriber failure, in order."""
        return self._hub.failures

    def for_plugin(self, plugin_id: str) -> MockEventsService:
        """The service plugin ``plugin_id`` gets: the same bus, its own subscriber prefix."""
        return MockEventsService(plugin_id, _hub=self._hub)

    def factory(self) -> ServiceFactory[EventsService]:
        """An ``events.service`` factory giving every plugin a service on this bus."""

        def factory(*, plugin_metadata: PluginMetadataService) -> MockEventsService:
            return self.for_plugin(plugin_metadata.get_id())

        return create_service_factory(
            service=events_service_ref,
            deps={"plugin_metadata": core_services.plugin_metadata},
            factory=factory,
        )

    async def publish(
        self, *, topic: str, event_payload: Any, metadata: EventMetadata | None = None
    ) -> None:
        """Record the event and deliver it to the subscribers of ``topic``."""
        event = EventParams(topic=topic, event_payload=event_payload, metadata=metadata)
        self._hub.published.append(event)
        for subscription in list(self._hub.subscriptions):
            if topic not in subscription.topics:
                continue
            try:
                result = subscription.on_event(event)
                if inspect.isawaitable(result):
                    await result
            except Exception as error:
                self._hub.failures.append(SubscriberFailure(subscription.id, event, error))

    async def subscribe(self, *, id: str, topics: Sequence[str], on_event: EventHandler) -> None:
        """Subscribe ``on_event`` as ``<pluginId>.<id>``."""
        if isinstance(topics, str):
            raise TypeError(
                f"Subscriber '{self._plugin_id}.{id}' must pass topics as a list of strings, "
                f"not the string '{topics}'"
            )
        self._hub.subscriptions.append(
            EventsServiceSubscribeOptions(f"{self._plugin_id}.{id}", tuple(topics), on_event)
        )


class _MockEvents:
    def __call__(self, plugin_id: str = "test") -> MockEventsService:
        """A fresh in-memory bus, seen as plugin ``plugin_id``; ``.factory()`` shares it."""
        return MockEventsService(plugin_id)

    def factory(self) -> ServiceFactory[EventsService]:
        """An ``events.service`` factory on a fresh in-memory bus."""
        return MockEventsService().factory()

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``events.service`` (``publish``, ``subscribe``)."""
        return build_service_mock(events_service_ref, EventsService, implementations)


#: ``mock_services.events()`` / ``mock_services.events.factory()``.
mock_events = _MockEvents()
