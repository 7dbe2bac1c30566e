"""The events plugin's bus API on a real socket, with exactly the requests of Node's
``openapi.yaml`` (``/bus/v1/events``, ``/bus/v1/subscriptions/<id>``, ``.../events``): statuses,
headers, bodies, credentials and hostile input, on the memory store (SQLite, MySQL) and the
database store (PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import anyio
import pytest
from _support.http import Reply, request
from backstage_plugin_events_backend import events_plugin

from backstage_runtime.testing import (
    TestBackend,
    TestDatabases,
    mock_credentials,
    start_test_backend,
)

pytestmark = pytest.mark.anyio

SERVICE = mock_credentials.service.headers("plugin:catalog")
STORES = ["SQLITE_3", "POSTGRES"]


@asynccontextmanager
async def events_backend(
    test_databases: TestDatabases, database_id: str, notify_timeout_ms: int = 10_000
) -> AsyncIterator[TestBackend]:
    config: dict[str, Any] = {
        "backend": {"database": await test_databases.backend_config(database_id)},  # type: ignore[arg-type]
        "events": {"notifyTimeoutMs": notify_timeout_ms},
    }
    async with start_test_backend(features=[events_plugin], config=config) as test:
        yield test


class Bus:
    """The bus API of one test backend, called as Node's generated client calls it."""

    def __init__(self, base: str) -> None:
        self.base = base

    async def publish(
        self, topic: str, payload: Any, notified: list[str] | None = None, **extra: Any
    ) -> Reply:
        body: dict[str, Any] = {"event": {"topic": topic, "payload": payload}}
        if notified is not None:
            body["notifiedSubscribers"] = notified
        return await request("POST", f"{self.base}/bus/v1/events", json=body, headers=SERVICE)

    async def subscribe(self, id: str, topics: list[str]) -> Reply:
        return await request(
            "PUT",
            f"{self.base}/bus/v1/subscriptions/{id}",
            json={"topics": topics},
            headers=SERVICE,
        )

    async def read(self, id: str) -> Reply:
        return await request(
            "GET", f"{self.base}/bus/v1/subscriptions/{id}/events", headers=SERVICE
        )


async def bus_of(test: TestBackend) -> Bus:
    return Bus(await test.url("/api/events"))


def error_json(status: int, name: str, message: str, method: str, url: str) -> dict[str, Any]:
    return {
        "error": {"name": name, "message": message},
        "request": {"method": method, "url": url},
        "response": {"statusCode": status},
    }


@pytest.mark.parametrize("database_id", STORES)
async def test_an_event_without_subscribers_is_not_stored_and_answers_204(
    database_id: str, test_databases: TestDatabases
) -> None:
    async with events_backend(test_databases, database_id, notify_timeout_ms=100) as test:
        bus = await bus_of(test)
        reply = await bus.publish("t", {"n": 0})
        assert (reply.status, reply.body) == (204, b"")
        assert (await bus.subscribe("s", ["t"])).status == 201
        # The subscription reads from its creation on: the earlier event was never kept.
        reply = await bus.read("s")
        assert reply.status == 202


@pytest.mark.parametrize("database_id", STORES)
async def test_a_subscriber_reads_the_events_of_its_topics_in_order_as_200_json(
    database_id: str, test_databases: TestDatabases
) -> None:
    async with events_backend(test_databases, database_id) as test:
        bus = await bus_of(test)
        subscribed = await bus.subscribe("s", ["a", "b"])
        assert (subscribed.status, subscribed.body) == (201, b"")
        assert (await bus.publish("a", {"n": 1})).status == 201
        assert (await bus.publish("other", {"n": 2})).status == 204
        assert (await bus.publish("b", "text payload")).status == 201
        reply = await bus.read("s")
        assert reply.status == 200
        assert reply.headers["content-type"].startswith("application/json")
        assert reply.json() == {
            "events": [
                {"topic": "a", "payload": {"n": 1}},
                {"topic": "b", "payload": "text payload"},
            ]
        }


@pytest.mark.parametrize("database_id", STORES)
async def test_a_read_returns_at_most_ten_events_and_the_next_read_the_rest(
    database_id: str, test_databases: TestDatabases
) -> None:
    async with events_backend(test_databases, database_id) as test:
        bus = await bus_of(test)
        await bus.subscribe("s", ["t"])
        for n in range(13):
            assert (await bus.publish("t", n)).status == 201
        first, second = (await bus.read("s")).json(), (await bus.read("s")).json()
        assert [e["payload"] for e in first["events"]] == list(range(10))
        assert [e["payload"] for e in second["events"]] == [10, 11, 12]


@pytest.mark.parametrize("database_id", STORES)
async def test_nothing_to_read_answers_202_with_the_notify_timeout_and_ends_at_it(
    database_id: str, test_databases: TestDatabases
) -> None:
    async with events_backend(test_databases, database_id, notify_timeout_ms=300) as test:
        bus = await bus_of(test)
        await bus.subscribe("s", ["t"])
        started = anyio.current_time()
        reply = await bus.read("s")
        held = anyio.current_time() - started
        assert reply.status == 202
        assert reply.headers["backstage-events-notify-timeout"] == "300"
        assert reply.body == b""
        assert 0.3 <= held < 5


@pytest.mark.parametrize("database_id", STORES)
async def test_a_held_poll_ends_when_an_event_of_its_topics_is_published(
    database_id: str, test_databases: TestDatabases
) -> None:
    async with events_backend(test_databases, database_id, notify_timeout_ms=30_000) as test:
        bus = await bus_of(test)
        await bus.subscribe("s", ["t"])
        url = f"{bus.base}/bus/v1/subscriptions/s/events"
        with anyio.fail_after(10):
            async with (
                aiohttp.ClientSession() as session,
                session.get(url, headers=SERVICE) as poll,
            ):
                # The 202 arrives at once, before any news: the body is what is held open.
                assert poll.status == 202
                assert (await bus.publish("other", 1)).status == 204
                assert (await bus.publish("t", 2)).status == 201
                assert await poll.read() == b""
        assert (await bus.read("s")).json() == {"events": [{"topic": "t", "payload": 2}]}


@pytest.mark.parametrize("database_id", STORES)
async def test_notified_subscribers_are_skipped_and_an_event_all_have_seen_is_not_stored(
    database_id: str, test_databases: TestDatabases
) -> None:
    async with events_backend(test_databases, database_id, notify_timeout_ms=100) as test:
        bus = await bus_of(test)
        await bus.subscribe("local", ["t"])
        assert (await bus.publish("t", 1, notified=["local"])).status == 204
        await bus.subscribe("remote", ["t"])
        assert (await bus.publish("t", 2, notified=["local"])).status == 201
        assert (await bus.read("remote")).json() == {"events": [{"topic": "t", "payload": 2}]}
        assert (await bus.read("local")).status == 202


@pytest.mark.parametrize("database_id", STORES)
async def test_putting_a_subscription_again_changes_its_topics_and_keeps_its_cursor(
    database_id: str, test_databases: TestDatabases
) -> None:
    async with events_backend(test_databases, database_id) as test:
        bus = await bus_of(test)
        await bus.subscribe("s", ["a"])
        await bus.publish("a", 1)
        await bus.subscribe("s", ["a", "b"])
        await bus.publish("b", 2)
        assert (await bus.read("s")).json()["events"] == [
            {"topic": "a", "payload": 1},
            {"topic": "b", "payload": 2},
        ]


@pytest.mark.parametrize("database_id", STORES)
async def test_two_consumers_of_one_subscription_share_its_events_each_read_once(
    database_id: str, test_databases: TestDatabases
) -> None:
    async with events_backend(test_databases, database_id, notify_timeout_ms=200) as test:
        bus = await bus_of(test)
        await bus.subscribe("shared", ["t"])
        for n in range(25):
            await bus.publish("t", n)
        got: list[list[int]] = [[], []]

        async def consume(index: int) -> None:
            while sum(map(len, got)) < 25:
                reply = await bus.read("shared")
                if reply.status == 200:
                    got[index].extend(e["payload"] for e in reply.json()["events"])

        with anyio.fail_after(20):
            async with anyio.create_task_group() as group:
                group.start_soon(consume, 0)
                group.start_soon(consume, 1)
        assert sorted(got[0] + got[1]) == list(range(25))


@pytest.mark.parametrize(
    ("database_id", "message"),
    [("SQLITE_3", "Subscription not found"), ("POSTGRES", "Subscription with ID 'nope' not found")],
)
async def test_reading_an_unknown_subscription_is_404_with_the_error_json(
    database_id: str, message: str, test_databases: TestDatabases
) -> None:
    async with events_backend(test_databases, database_id) as test:
        reply = await (await bus_of(test)).read("nope")
        assert reply.status == 404
        assert reply.json() == error_json(
            404, "NotFoundError", message, "GET", "/bus/v1/subscriptions/nope/events"
        )


async def test_every_route_takes_service_credentials_only(test_databases: TestDatabases) -> None:
    async with events_backend(test_databases, "SQLITE_3") as test:
        base = await test.url("/api/events")
        user = mock_credentials.user.headers()
        calls = [
            ("POST", "/bus/v1/events", {"event": {"topic": "t", "payload": 1}}),
            ("PUT", "/bus/v1/subscriptions/s", {"topics": ["t"]}),
            ("GET", "/bus/v1/subscriptions/s/events", None),
        ]
        for method, path, body in calls:
            as_user = await request(method, base + path, json=body, headers=user)
            assert as_user.status == 403, (method, path)
            assert as_user.json()["error"]["name"] == "NotAllowedError"
            anonymous = await request(
                method, base + path, json=body, headers=mock_credentials.none.headers()
            )
            assert anonymous.status == 401, (method, path)
            assert anonymous.json()["error"]["name"] == "AuthenticationError"


async def test_hostile_bodies_are_refused_with_the_error_json(
    test_databases: TestDatabases,
) -> None:
    async with events_backend(test_databases, "SQLITE_3") as test:
        base = await test.url("/api/events")
        json_headers = {**SERVICE, "Content-Type": "application/json"}

        async def post(path: str, data: bytes, method: str = "POST") -> Reply:
            return await request(method, base + path, data=data, headers=json_headers)

        malformed = await post("/bus/v1/events", b'{"event": {"topic": ')
        assert malformed.status == 400
        assert malformed.json()["error"]["name"] == "SyntaxError"
        no_topic = await post("/bus/v1/events", b'{"event": {"payload": 1}}')
        assert no_topic.json() == error_json(
            400,
            "InputError",
            "request/body/event must have required property 'topic'",
            "POST",
            "/bus/v1/events",
        )
        no_payload = await post("/bus/v1/events", b'{"event": {"topic": "t"}}')
        assert no_payload.status == 400
        not_strings = await post(
            "/bus/v1/events", b'{"event": {"topic": "t", "payload": 1}, "notifiedSubscribers": [1]}'
        )
        assert not_strings.json()["error"]["message"] == (
            "request/body/notifiedSubscribers must be an array of strings"
        )
        no_body = await request("POST", base + "/bus/v1/events", headers=SERVICE)
        assert (
            no_body.json()["error"]["message"] == "request/body must have required property 'event'"
        )
        bad_topics = await post("/bus/v1/subscriptions/s", b'{"topics": "t"}', method="PUT")
        assert (
            bad_topics.json()["error"]["message"]
            == "request/body/topics must be an array of strings"
        )
        # express.json()'s limit (100kb) holds for the bus API too.
        huge = await post(
            "/bus/v1/events", b'{"event": {"topic": "t", "payload": "' + b"x" * 200_000 + b'"}}'
        )
        assert huge.status == 413
        assert huge.json()["error"]["name"] == "PayloadTooLargeError"


@pytest.mark.parametrize("database_id", STORES)
async def test_stopping_the_backend_answers_a_held_poll_at_once_and_keeps_its_events(
    database_id: str, test_databases: TestDatabases
) -> None:
    config: dict[str, Any] = {
        "backend": {
            "database": await test_databases.backend_config(database_id),  # type: ignore[arg-type]
            "lifecycle": {"shutdownHookTimeout": {"seconds": 30}},
        },
        "events": {"notifyTimeoutMs": 30_000},
    }
    async with aiohttp.ClientSession() as session:
        async with start_test_backend(features=[events_plugin], config=config) as test:
            bus = await bus_of(test)
            await bus.subscribe("s", ["t"])
            url = f"{bus.base}/bus/v1/subscriptions/s/events"
            poll = await session.get(url, headers=SERVICE)
            assert poll.status == 202
            stopping = anyio.current_time()
        # The stop did not wait for the poll's 30 s: it was answered (empty, no events lost).
        assert anyio.current_time() - stopping < 10
        with anyio.fail_after(5):
            assert await poll.read() == b""
