"""The events service against an events backend on a real socket (``events.useEventBus``):
publish forwarding, long-poll subscriptions, 404 fallback, backoff, malformed answers, shutdown.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from _support.polling import eventually

from backstage_runtime import EventParams, EventsService, create_backend, events_service_ref
from backstage_runtime.api.errors import ResponseError
from backstage_runtime.defaults.events import events_service_factory
from backstage_runtime.testing import TestBackend, start_test_backend

from ._fake_bus import FakeBus, serve_fake_bus
from .test_events import plugin_with_events

pytestmark = pytest.mark.anyio


class RecordingSleep:
    """The poll backoff's sleep: records each delay; returns at once for the first ``free``
    ones, then blocks (until cancelled) so that the loop stays put for the assertions."""

    def __init__(self, free: int = 1_000) -> None:
        self.delays: list[float] = []
        self.free = free
        self.blocked = anyio.Event()

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        if len(self.delays) >= self.free:
            self.blocked.set()
            await anyio.Event().wait()
        await anyio.lowlevel.checkpoint()


def collector(received: list[EventParams], topics: list[str], id: str = "s") -> Any:
    async def subscribe(events: EventsService) -> None:
        await events.subscribe(id=id, topics=topics, on_event=received.append)

    return subscribe


@asynccontextmanager
async def backend_with_bus(
    bus: FakeBus,
    *plugins: Any,
    mode: str | None = "auto",
    sleep: Any = None,
) -> AsyncIterator[TestBackend]:
    config: dict[str, Any] = bus.discovery_config()
    if mode is not None:
        config["events"] = {"useEventBus": mode}
    features = [*plugins, events_service_factory(sleep=sleep or RecordingSleep())]
    async with start_test_backend(features=features, config=config) as test:
        yield test


def warnings(test: TestBackend) -> list[str]:
    return [e.message for e in test.logger.entries if e.level == "warn"]


async def test_publish_notifies_locally_then_posts_the_event_with_the_notified_ids() -> None:
    received: list[EventParams] = []
    async with serve_fake_bus() as bus:
        sub = plugin_with_events("sub", collector(received, ["t"]))
        async with backend_with_bus(bus, sub, plugin_with_events("pub"), mode=None) as test:
            await bus.wait_for(lambda: bus.open_polls == 1)
            publisher = await test.get_service(events_service_ref, "pub")
            await publisher.publish(topic="t", event_payload={"n": 1}, metadata={"h": "v"})
            await publisher.publish(topic="nobody", event_payload=[2])

    assert received == [EventParams(topic="t", event_payload={"n": 1}, metadata={"h": "v"})]
    posts = bus.of("POST", "/bus/v1/events")
    assert [p.body for p in posts] == [
        {"event": {"payload": {"n": 1}, "topic": "t"}, "notifiedSubscribers": ["sub.s"]},
        {"event": {"payload": [2], "topic": "nobody"}, "notifiedSubscribers": []},
    ]
    # Every subscriber was notified locally, so the bus stored nothing (its 204 answer).
    assert bus.events == []
    for request in bus.requests:
        assert request.headers["authorization"].startswith("Bearer ")
        assert len(request.headers["authorization"]) > len("Bearer ")


async def test_a_subscription_is_put_then_long_polled_and_events_from_elsewhere_delivered() -> None:
    received: list[EventParams] = []
    async with serve_fake_bus() as bus:
        sub = plugin_with_events("search", collector(received, ["catalog", "other"], "indexer"))
        async with backend_with_bus(bus, sub):
            await bus.wait_for(lambda: bus.open_polls == 1)
            put = bus.of("PUT")
            assert [(r.path, r.body) for r in put] == [
                (
                    "/api/events/bus/v1/subscriptions/search.indexer",
                    {"topics": ["catalog", "other"]},
                )
            ]
            # Another instance publishes: the open 202 ends, the client reads the event.
            assert bus.publish("catalog", {"ref": "component:default/a"}, ["elsewhere.x"])
            await eventually(lambda: bool(received), timeout=10)

    assert received == [EventParams(topic="catalog", event_payload={"ref": "component:default/a"})]
    gets = bus.of("GET", "/bus/v1/subscriptions/search.indexer/events")
    assert len(gets) >= 2  # the 202 that was held open, then the read that got the event


async def test_in_auto_a_404_from_the_events_backend_keeps_the_plugin_local() -> None:
    received: list[EventParams] = []
    async with serve_fake_bus() as bus:
        bus.mode = "absent"
        sub = plugin_with_events("sub", collector(received, ["t"]))
        async with backend_with_bus(bus, sub, plugin_with_events("pub")) as test:
            await eventually(
                lambda: any("Event subscribe request failed" in m for m in warnings(test))
            )
            events = await test.get_service(events_service_ref, "pub")
            await events.publish(topic="t", event_payload=1)
            await events.publish(topic="t", event_payload=2)
            logged = warnings(test)
            infos = [e.message for e in test.logger.entries if e.level == "info"]

    assert [e.event_payload for e in received] == [1, 2]
    # One PUT (plugin sub) and one POST (plugin pub): after its 404 each plugin stays local.
    assert [r.method for r in bus.requests] == ["PUT", "POST"]
    assert (
        "Event subscribe request failed with status 404, events backend not found. Will only "
        "receive events that were sent locally on this process." in logged
    )
    assert (
        "Event publish request failed with status 404, events backend not found. Future "
        "events will not be persisted." in logged
    )
    assert not [m for m in infos if "recreating subscription" in m]


async def test_in_always_a_404_is_an_error_publish_raises_and_polls_retry_with_backoff() -> None:
    sleep = RecordingSleep(free=3)
    async with serve_fake_bus() as bus:
        bus.mode = "absent"
        sub = plugin_with_events("sub", collector([], ["t"]))
        async with backend_with_bus(bus, sub, mode="always", sleep=sleep) as test:
            with anyio.fail_after(10):
                await sleep.blocked.wait()
            events = await test.get_service(events_service_ref, "sub")
            with pytest.raises(ResponseError) as raised:
                await events.publish(topic="t", event_payload=1)
            logged = warnings(test)

    assert raised.value.status_code == 404
    assert sleep.delays == [1.0, 2.0, 4.0]
    assert logged[:3] == [
        f'Poll failed for subscription "sub.s", retrying in {ms}ms' for ms in (1000, 2000, 4000)
    ]


async def test_a_failing_events_backend_is_polled_with_exponential_backoff_up_to_a_minute() -> None:
    sleep = RecordingSleep(free=9)
    async with serve_fake_bus() as bus:
        bus.mode = "failing"
        sub = plugin_with_events("sub", collector([], ["t"]))
        async with backend_with_bus(bus, sub, sleep=sleep) as test:
            with anyio.fail_after(10):
                await sleep.blocked.wait()
            requests = len(bus.requests)
            errors = [e.error for e in test.logger.entries if e.message.startswith("Poll failed")]

    assert sleep.delays == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    # One request per attempt: no retry happens without its backoff first.
    assert requests == 9
    # As Backstage: the PUT's status is not re-checked, the next round reads.
    assert [r.method for r in bus.requests] == ["PUT"] + ["GET"] * 8
    assert all(isinstance(e, ResponseError) and e.status_code == 500 for e in errors)


async def test_a_malformed_answer_is_logged_backed_off_and_polling_continues() -> None:
    received: list[EventParams] = []
    bus_ref: list[FakeBus] = []

    class HealOnFirstSleep(RecordingSleep):
        async def __call__(self, delay: float) -> None:
            bus_ref[0].mode = "normal"
            await super().__call__(delay)

    sleep = HealOnFirstSleep()
    async with serve_fake_bus() as bus:
        bus_ref.append(bus)
        bus.mode = "malformed"
        sub = plugin_with_events("sub", collector(received, ["t"]))
        async with backend_with_bus(bus, sub, sleep=sleep) as test:
            await bus.wait_for(lambda: bus.open_polls == 1)
            bus.publish("t", "after")
            await eventually(lambda: bool(received), timeout=10)
            failures = [e for e in test.logger.entries if e.message.startswith("Poll failed for")]

    assert sleep.delays == [1.0]
    assert failures[0].message == 'Poll failed for subscription "sub.s", retrying in 1000ms'
    assert failures[0].error is not None
    assert received == [EventParams(topic="t", event_payload="after")]


async def test_a_failing_handler_is_logged_and_the_poll_loop_goes_on() -> None:
    received: list[Any] = []

    async def subscribe(events: EventsService) -> None:
        async def handler(event: EventParams) -> None:
            if event.event_payload == "bad":
                raise RuntimeError("cannot handle")
            received.append(event.event_payload)

        await events.subscribe(id="s", topics=["t"], on_event=handler)

    async with (
        serve_fake_bus() as bus,
        backend_with_bus(bus, plugin_with_events("sub", subscribe)) as test,
    ):
        await bus.wait_for(lambda: bus.open_polls == 1)
        bus.publish("t", "bad")
        await bus.wait_for(lambda: bus.open_polls == 0)
        await bus.wait_for(lambda: bus.open_polls == 1)
        bus.publish("t", "good")
        await eventually(lambda: bool(received), timeout=10)
        logged = [e for e in test.logger.entries if e.level == "warn"]

    assert received == ["good"]
    assert [e.message for e in logged] == [
        'Subscriber "sub.s" failed to process event for topic "t"'
    ]
    assert isinstance(logged[0].error, RuntimeError)


async def test_never_sends_nothing_to_the_events_backend() -> None:
    received: list[EventParams] = []
    async with serve_fake_bus() as bus:
        sub = plugin_with_events("sub", collector(received, ["t"]))
        async with backend_with_bus(bus, sub, mode="never") as test:
            events = await test.get_service(events_service_ref, "sub")
            await events.publish(topic="t", event_payload=1)
            await anyio.wait_all_tasks_blocked()

    assert [e.event_payload for e in received] == [1]
    assert bus.requests == []


async def test_shutdown_cancels_an_open_long_poll_and_leaves_no_request_open() -> None:
    async with serve_fake_bus() as bus:
        first = plugin_with_events("a", collector([], ["t"]))
        second = plugin_with_events("b", collector([], ["u"]))
        # The guard bounds the whole stop: a poll that is not cancelled would hold it 55 s.
        with anyio.fail_after(15):
            async with backend_with_bus(bus, first, second):
                await bus.wait_for(lambda: bus.open_polls == 2)
            await bus.wait_for(lambda: bus.open_polls == 0)
        count = len(bus.requests)
    # Nothing polls after the stop.
    assert len(bus.requests) == count


async def test_events_whose_answer_is_arriving_at_shutdown_are_still_delivered() -> None:
    # The bus marks events read when it answers: a poll cancelled by the shutdown while that
    # answer is on its way must finish reading it, or the events are lost for the subscription.
    received: list[EventParams] = []
    async with serve_fake_bus() as bus:
        bus.hold_event_bodies = release = anyio.Event()
        subscriber = plugin_with_events("a", collector(received, ["t"]))
        held = anyio.Event()

        async def run_then_stop() -> None:
            async with backend_with_bus(bus, subscriber):
                await bus.wait_for(lambda: bus.open_polls == 1)
                assert bus.publish("t", {"n": 1})
                await bus.wait_for(lambda: bus.held_bodies == 1)
                held.set()
            # Leaving the block stopped the backend while the body was half-sent.

        with anyio.fail_after(15):
            async with anyio.create_task_group() as group:
                group.start_soon(run_then_stop)
                await held.wait()
                # Once the stop has cancelled the poll (and everything waits), send the rest.
                await anyio.wait_all_tasks_blocked()
                release.set()
    assert received == [EventParams(topic="t", event_payload={"n": 1})]


async def test_a_202_without_a_notify_header_still_ends_when_the_response_does() -> None:
    received: list[EventParams] = []
    async with serve_fake_bus(notify_timeout_ms=50) as bus:
        bus.notify_header = False
        sub = plugin_with_events("sub", collector(received, ["t"]))
        async with backend_with_bus(bus, sub):
            # Short server-side timeouts: the client reads again after each empty 202.
            await bus.wait_for(lambda: len(bus.of("GET")) >= 3)
            bus.publish("t", "late")
            await eventually(lambda: bool(received), timeout=10)

    assert received == [EventParams(topic="t", event_payload="late")]


async def test_publish_to_an_unreachable_events_backend_in_auto_stays_local() -> None:
    received: list[EventParams] = []
    async with serve_fake_bus() as bus:
        config = bus.discovery_config()
    # The fake is gone: its port refuses connections.
    features = [
        plugin_with_events("sub", collector(received, ["t"])),
        events_service_factory(sleep=RecordingSleep(free=1)),
    ]
    config["events"] = {"useEventBus": "auto"}
    async with start_test_backend(features=features, config=config) as test:
        events = await test.get_service(events_service_ref, "sub")
        await events.publish(topic="t", event_payload=1)
        logged = warnings(test)

    assert [e.event_payload for e in received] == [1]
    assert any("events backend unreachable" in m for m in logged)


async def test_in_auto_a_backend_without_the_events_plugin_answers_404_and_events_stay_local() -> (
    None
):
    received: list[EventParams] = []
    # No discovery.endpoints: "events" resolves to this very backend, which has no such plugin.
    features = [
        plugin_with_events("sub", collector(received, ["t"])),
        plugin_with_events("pub"),
        events_service_factory(sleep=RecordingSleep(free=1)),
    ]
    async with start_test_backend(features=features) as test:
        events = await test.get_service(events_service_ref, "pub")
        await eventually(
            lambda: any("Event subscribe request failed" in m for m in warnings(test)),
            timeout=10,
        )
        await events.publish(topic="t", event_payload=1)
        await events.publish(topic="t", event_payload=2)
        logged = warnings(test)

    assert [e.event_payload for e in received] == [1, 2]
    assert [m for m in logged if "status 404" in m] == [
        "Event subscribe request failed with status 404, events backend not found. Will only "
        "receive events that were sent locally on this process.",
        "Event publish request failed with status 404, events backend not found. Future "
        "events will not be persisted.",
    ]


def _jwt_claims(authorization: str) -> dict[str, Any]:
    payload = authorization.removeprefix("Bearer ").split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


async def test_a_real_backend_sends_plugin_tokens_for_events_and_stays_local_without_the_plugin() -> (
    None
):
    """create_backend with its real auth: the bus gets JWTs issued by each plugin for the
    ``events`` plugin; without a bus configured the backend answers itself 404 and stays local."""
    received: list[EventParams] = []
    plugins = [plugin_with_events("sub", collector(received, ["t"])), plugin_with_events("pub")]
    listen = {"backend": {"listen": {"port": 0}, "baseUrl": "http://127.0.0.1"}}
    async with serve_fake_bus() as bus:
        backend = create_backend(
            features=plugins, config_paths=[], config={**listen, **bus.discovery_config()}
        )
        async with backend:
            await bus.wait_for(lambda: bus.open_polls == 1)
            publisher = await backend.get_service(events_service_ref, "pub")
            await publisher.publish(topic="t", event_payload="x")
    claims = [_jwt_claims(r.headers["authorization"]) for r in bus.requests]
    assert {(c["sub"], c["aud"]) for c in claims} == {("sub", "events"), ("pub", "events")}
    assert [e.event_payload for e in received] == ["x"]

    received.clear()
    alone = create_backend(features=plugins, config_paths=[], config=listen)
    async with alone:
        publisher = await alone.get_service(events_service_ref, "pub")
        await publisher.publish(topic="t", event_payload="y")
        await publisher.publish(topic="t", event_payload="z")
    assert [e.event_payload for e in received] == ["y", "z"]


async def test_a_handler_that_never_returns_is_abandoned_at_the_shutdown_hook_timeout() -> None:
    started = anyio.Event()

    async def subscribe(events: EventsService) -> None:
        async def stuck(event: EventParams) -> None:
            started.set()
            await anyio.Event().wait()

        await events.subscribe(id="s", topics=["t"], on_event=stuck)

    async with serve_fake_bus() as bus:
        config: dict[str, Any] = {
            **bus.discovery_config(),
            "backend": {"lifecycle": {"shutdownHookTimeout": {"milliseconds": 200}}},
        }
        features = [plugin_with_events("sub", subscribe), events_service_factory()]
        # The guard: a delivery shielded for good would hold the stop forever.
        with anyio.fail_after(15):
            async with start_test_backend(features=features, config=config) as test:
                await bus.wait_for(lambda: bus.open_polls == 1)
                bus.publish("t", "forever")
                await started.wait()
            await bus.wait_for(lambda: bus.open_polls == 0)
    errors = [e.message for e in test.logger.entries if e.level == "error"]
    assert errors == ["Shutdown hook timed out after 0.2s"]
