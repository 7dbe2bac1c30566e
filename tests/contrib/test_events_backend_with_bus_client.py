"""Our events service (``events.useEventBus`` ``always`` and ``auto``) against the events plugin
on a real socket: a publisher and a subscriber in two backends reach each other through a third
that runs the plugin (memory store on SQLite, database store on PostgreSQL), and over PostgreSQL
through two plugin instances sharing one database (``LISTEN``/``NOTIFY`` between them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
from _support.polling import eventually
from backstage_plugin_events_backend import events_plugin

from backstage_runtime import EventParams, EventsService, events_service_ref
from backstage_runtime.api import create_backend_plugin
from backstage_runtime.defaults.events import events_service_factory
from backstage_runtime.testing import TestBackend, TestDatabases, start_test_backend

pytestmark = pytest.mark.anyio


def plugin(plugin_id: str, init: Any = None) -> Any:
    def register(env: Any) -> None:
        env.register_init(deps={"events": events_service_ref}, init=init or (lambda events: None))

    return create_backend_plugin(plugin_id=plugin_id, register=register)


def subscriber(received: list[EventParams]) -> Any:
    async def init(events: EventsService) -> None:
        await events.subscribe(id="s", topics=["t"], on_event=received.append)

    return plugin("sub", init)


def subscribed(hub: TestBackend, subscription_id: str) -> bool:
    return any(
        e.message.startswith(f"New subscription '{subscription_id}'") for e in hub.logger.entries
    )


@asynccontextmanager
async def client_backend(hub: TestBackend, mode: str, *features: Any) -> AsyncIterator[TestBackend]:
    """A backend without the events plugin whose events service uses ``hub``'s bus."""
    config = {
        "events": {"useEventBus": mode},
        "discovery": {
            "endpoints": [{"target": await hub.url("/api/events"), "plugins": ["events"]}]
        },
    }
    async with start_test_backend(
        features=[*features, events_service_factory()], config=config
    ) as test:
        yield test


@pytest.mark.parametrize("mode", ["always", "auto"])
@pytest.mark.parametrize("database_id", ["SQLITE_3", "POSTGRES"])
async def test_events_published_in_one_backend_reach_a_subscriber_in_another_through_the_plugin(
    mode: str, database_id: str, test_databases: TestDatabases
) -> None:
    received: list[EventParams] = []
    hub_config = {"backend": {"database": await test_databases.backend_config(database_id)}}  # type: ignore[arg-type]
    async with (
        start_test_backend(features=[events_plugin], config=hub_config) as hub,
        client_backend(hub, mode, subscriber(received)),
        client_backend(hub, mode, plugin("pub")) as publisher,
    ):
        await eventually(lambda: subscribed(hub, "sub.s"), timeout=10)
        events = await publisher.get_service(events_service_ref, "pub")
        for n in range(3):
            await events.publish(topic="t", event_payload={"n": n})
        await eventually(lambda: len(received) == 3, timeout=10)
    assert [e.event_payload for e in received] == [{"n": 0}, {"n": 1}, {"n": 2}]


async def test_over_postgres_two_plugin_instances_share_the_bus_and_wake_each_others_polls(
    test_databases: TestDatabases,
) -> None:
    """Publisher -> instance A; subscriber polls instance B; both over one database."""
    received: list[EventParams] = []
    database = await test_databases.backend_config("POSTGRES")
    config = {"backend": {"database": database}, "events": {"notifyTimeoutMs": 30_000}}
    async with AsyncExitStack() as stack:
        hub_a = await stack.enter_async_context(
            start_test_backend(features=[events_plugin], config=config)
        )
        hub_b = await stack.enter_async_context(
            start_test_backend(features=[events_plugin], config=config)
        )
        await stack.enter_async_context(client_backend(hub_b, "always", subscriber(received)))
        publisher = await stack.enter_async_context(client_backend(hub_a, "always", plugin("pub")))
        await eventually(lambda: subscribed(hub_b, "sub.s"), timeout=10)
        # The subscriber's poll is held open at B (30 s): only B's NOTIFY listener ends it.
        await eventually(
            lambda: any("resulted in 0 events" in e.message for e in hub_b.logger.entries),
            timeout=10,
        )
        events = await publisher.get_service(events_service_ref, "pub")
        await events.publish(topic="t", event_payload="across")
        await eventually(lambda: len(received) == 1, timeout=10)
    assert [e.event_payload for e in received] == ["across"]
    assert any(
        e.message == "Received notification for subscription 'sub.s' for topic 't'"
        for e in hub_b.logger.entries
    )


async def test_on_sqlite_two_plugin_instances_keep_separate_memory_stores_as_node_does(
    test_databases: TestDatabases,
) -> None:
    received: list[EventParams] = []
    config = {"backend": {"database": await test_databases.backend_config("SQLITE_3")}}
    async with (
        start_test_backend(features=[events_plugin], config=config) as hub_a,
        start_test_backend(features=[events_plugin], config=config) as hub_b,
        client_backend(hub_b, "always", subscriber(received)),
        client_backend(hub_a, "always", plugin("pub")) as publisher,
    ):
        await eventually(lambda: subscribed(hub_b, "sub.s"), timeout=10)
        events = await publisher.get_service(events_service_ref, "pub")
        await events.publish(topic="t", event_payload="lost")
        assert any(
            "Skipped publishing of event to 't', no subscribers present" in e.message
            for e in hub_a.logger.entries
        )
    assert received == []
