"""``mock_services.events``: records what plugins publish and lets a test publish to them."""

from __future__ import annotations

from typing import Any

import pytest

from backstage_runtime import EventParams, EventsService, events_service_ref
from backstage_runtime.api import create_backend_plugin
from backstage_runtime.testing import MockEventsService, mock_services, start_test_backend

pytestmark = pytest.mark.anyio


def counter_plugin(seen: list[Any]) -> Any:
    """Subscribes to ``items`` and publishes ``counted`` for each item."""

    def register(env: Any) -> None:
        async def init(events: EventsService) -> None:
            async def on_event(event: EventParams) -> None:
                seen.append(event.event_payload)
                await events.publish(topic="counted", event_payload=len(seen))

            await events.subscribe(id="counter", topics=["items"], on_event=on_event)

        env.register_init(deps={"events": events_service_ref}, init=init)

    return create_backend_plugin(plugin_id="counter", register=register)


async def test_a_test_publishes_into_the_plugins_subscribers_and_sees_what_they_publish() -> None:
    seen: list[Any] = []
    events = mock_services.events()
    async with start_test_backend(features=[counter_plugin(seen), events.factory()]):
        await events.publish(topic="items", event_payload="a")
        await events.publish(topic="items", event_payload="b")

    assert seen == ["a", "b"]
    assert events.published == [
        EventParams(topic="items", event_payload="a"),
        EventParams(topic="counted", event_payload=1),
        EventParams(topic="items", event_payload="b"),
        EventParams(topic="counted", event_payload=2),
    ]
    assert [s.id for s in events.subscriptions] == ["counter.counter"]


async def test_the_test_backend_has_an_in_memory_events_service_by_default() -> None:
    async with start_test_backend(features=[counter_plugin([])]) as test:
        service = await test.get_service(events_service_ref, "counter")
        assert isinstance(service, MockEventsService)
        await service.publish(topic="items", event_payload="x")
        assert [e.topic for e in service.published] == ["items", "counted"]


async def test_a_failing_subscriber_is_recorded_and_the_others_still_get_the_event() -> None:
    events = mock_services.events("p")
    received: list[str] = []

    def broken(event: EventParams) -> None:
        raise ValueError("bad payload")

    await events.subscribe(id="broken", topics=["t"], on_event=broken)
    await events.subscribe(id="ok", topics=["t"], on_event=lambda e: received.append(e.topic))
    await events.publish(topic="t", event_payload=None)

    assert received == ["t"]
    assert [(f.subscriber_id, type(f.error)) for f in events.failures] == [("p.broken", ValueError)]


def test_the_mock_is_an_events_service() -> None:
    service: EventsService = mock_services.events()
    assert service is not None
