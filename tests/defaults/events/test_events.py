"""The default events service: one in-process bus per backend, failures isolated, shutdown safe."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anyio
import pytest
from anyio import wait_all_tasks_blocked

from backstage_runtime import EventParams, EventsService, events_service_ref
from backstage_runtime.api import (
    core_services,
    create_backend_plugin,
    create_service_factory,
    runtime_services,
)
from backstage_runtime.api.errors import BackendStartupError, ServiceUnavailableError
from backstage_runtime.defaults.events import events_service_factory
from backstage_runtime.testing import start_test_backend

pytestmark = pytest.mark.anyio

#: The in-process bus alone (the events backend between instances is tested with a fake one
#: in test_event_bus_client.py).
LOCAL = {"events": {"useEventBus": "never"}}


def plugin_with_events(plugin_id: str, init: Any = None) -> Any:
    """A plugin whose init (when given) receives its events service."""

    def register(env: Any) -> None:
        env.register_init(
            deps={"events": events_service_ref},
            init=init or (lambda events: None),
        )

    return create_backend_plugin(plugin_id=plugin_id, register=register)


async def test_the_ref_has_backstages_id_and_plugin_scope() -> None:
    assert events_service_ref.id == "events.service"
    assert events_service_ref.scope == "plugin"
    assert events_service_ref not in core_services.all()


async def test_an_event_published_by_one_plugin_reaches_the_subscribers_of_another() -> None:
    received: list[EventParams] = []

    async def subscribe(events: EventsService) -> None:
        async def on_event(event: EventParams) -> None:
            received.append(event)

        await events.subscribe(id="listener", topics=["t1", "t2"], on_event=on_event)

    features = [
        plugin_with_events("a"),
        plugin_with_events("b", subscribe),
        events_service_factory(),
    ]
    async with start_test_backend(features=features, config=LOCAL) as test:
        events_a = await test.get_service(events_service_ref, "a")
        await events_a.publish(topic="t1", event_payload={"n": 1}, metadata={"h": "v"})
        await events_a.publish(topic="other", event_payload={"n": 2})
        await events_a.publish(topic="t2", event_payload={"n": 3})

    assert received == [
        EventParams(topic="t1", event_payload={"n": 1}, metadata={"h": "v"}),
        EventParams(topic="t2", event_payload={"n": 3}),
    ]


async def test_a_failing_subscriber_is_logged_by_its_prefixed_id_and_the_others_still_get_it() -> (
    None
):
    received: list[str] = []

    async def subscribe(events: EventsService) -> None:
        async def broken(event: EventParams) -> None:
            raise RuntimeError("cannot index")

        async def working(event: EventParams) -> None:
            received.append(event.topic)

        await events.subscribe(id="broken", topics=["entity"], on_event=broken)
        await events.subscribe(id="working", topics=["entity"], on_event=working)

    features = [plugin_with_events("search", subscribe), events_service_factory()]
    async with start_test_backend(features=features, config=LOCAL) as test:
        events = await test.get_service(events_service_ref, "search")
        await events.publish(topic="entity", event_payload={})
        warnings = [e for e in test.logger.entries if e.level == "warn"]

    assert received == ["entity"]
    assert [w.message for w in warnings] == [
        'Subscriber "search.broken" failed to process event for topic "entity"'
    ]
    assert isinstance(warnings[0].error, RuntimeError)


async def test_every_plugin_of_a_backend_shares_one_bus_and_backends_do_not() -> None:
    received: list[str] = []

    async def subscribe(events: EventsService) -> None:
        await events.subscribe(
            id="s", topics=["t"], on_event=lambda event: received.append(event.event_payload)
        )

    async with (
        start_test_backend(
            features=[plugin_with_events("sub", subscribe), events_service_factory()], config=LOCAL
        ) as first,
        start_test_backend(
            features=[plugin_with_events("pub"), events_service_factory()], config=LOCAL
        ) as second,
    ):
        await (await second.get_service(events_service_ref, "pub")).publish(
            topic="t", event_payload="elsewhere"
        )
        await (await first.get_service(events_service_ref, "sub")).publish(
            topic="t", event_payload="here"
        )

    assert received == ["here"]


async def test_topics_as_a_bare_string_are_refused_naming_the_subscriber() -> None:
    features = [plugin_with_events("p"), events_service_factory()]
    async with start_test_backend(features=features, config=LOCAL) as test:
        events = await test.get_service(events_service_ref, "p")
        with pytest.raises(TypeError, match=r"'p\.s' must pass topics as a list"):
            await events.subscribe(id="s", topics="topic", on_event=lambda event: None)


async def test_shutdown_refuses_new_events_and_waits_for_the_deliveries_in_flight() -> None:
    started = anyio.Event()
    release = anyio.Event()
    order: list[str] = []

    async def subscribe(events: EventsService) -> None:
        async def slow(event: EventParams) -> None:
            started.set()
            await release.wait()
            order.append("delivered")

        await events.subscribe(id="slow", topics=["t"], on_event=slow)

    features = [
        plugin_with_events("pub"),
        plugin_with_events("sub", subscribe),
        events_service_factory(),
    ]
    async with start_test_backend(features=features, config=LOCAL) as test:
        publisher = await test.get_service(events_service_ref, "pub")

        async def stop() -> None:
            await test.backend.stop()
            order.append("stopped")

        # A guard, not a sync: a publish that is not refused would wait for `release` forever.
        with anyio.fail_after(10):
            async with anyio.create_task_group() as group:
                group.start_soon(lambda: publisher.publish(topic="t", event_payload=1))
                await started.wait()
                group.start_soon(stop)
                # Every task is blocked: the stop is waiting, not finished.
                await wait_all_tasks_blocked()
                assert order == []
                with pytest.raises(ServiceUnavailableError, match="Plugin 'pub' cannot publish"):
                    await publisher.publish(topic="t", event_payload=2)
                release.set()

    assert order == ["delivered", "stopped"]


async def test_publishing_still_works_while_the_server_drains_before_the_plugins_stop() -> None:
    # Regression: publishing was refused from the first before-shutdown hook, so behind a load
    # balancer a request that publishes failed during backend.lifecycle.serverShutdownDelay,
    # the window in which the server still serves so that the balancer can move away.
    received: list[Any] = []
    draining = anyio.Event()

    async def subscribe(events: EventsService) -> None:
        await events.subscribe(
            id="s", topics=["t"], on_event=lambda event: received.append(event.event_payload)
        )

    def watch_shutdown(root_lifecycle: Any) -> None:
        root_lifecycle.add_before_shutdown_hook(draining.set)

    watcher = create_backend_plugin(
        plugin_id="watcher",
        register=lambda env: env.register_init(
            deps={"root_lifecycle": core_services.root_lifecycle}, init=watch_shutdown
        ),
    )
    features = [plugin_with_events("pub"), plugin_with_events("sub", subscribe), watcher]
    config = {**LOCAL, "backend": {"lifecycle": {"serverShutdownDelay": {"milliseconds": 300}}}}
    async with start_test_backend(
        features=[*features, events_service_factory()], config=config
    ) as test:
        publisher = await test.get_service(events_service_ref, "pub")
        async with anyio.create_task_group() as group:
            group.start_soon(test.backend.stop)
            await draining.wait()
            await publisher.publish(topic="t", event_payload="while draining")
        # Once the plugins stop, publishing is refused.
        with pytest.raises(ServiceUnavailableError, match="Plugin 'pub' cannot publish"):
            await publisher.publish(topic="t", event_payload="after the stop")
    assert received == ["while draining"]


async def test_an_invalid_bus_mode_stops_the_start_naming_the_key() -> None:
    features = [plugin_with_events("a"), events_service_factory()]
    with pytest.raises(BackendStartupError) as caught:
        async with start_test_backend(
            features=features, config={"events": {"useEventBus": "sometimes"}}
        ):
            pass
    assert "Invalid events.useEventBus config" in str(caught.value.__cause__ or caught.value)


async def test_the_in_process_bus_alone_builds_no_http_session() -> None:
    # With useEventBus never, nothing talks to the events backend: the shared aiohttp session
    # (a deferred dependency) is never built.
    sessions: list[aiohttp.ClientSession] = []

    async def recording_session() -> AsyncIterator[aiohttp.ClientSession]:
        async with aiohttp.ClientSession() as session:
            sessions.append(session)
            yield session

    http_client = create_service_factory(
        service=runtime_services.http_client, factory=recording_session, initialization="lazy"
    )
    features = [plugin_with_events("a"), events_service_factory(), http_client]
    async with start_test_backend(features=features, config=LOCAL) as test:
        events = await test.get_service(events_service_ref, "a")
        await events.publish(topic="t1", event_payload={"n": 1})
    assert sessions == []
