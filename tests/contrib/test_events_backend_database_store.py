"""The PostgreSQL store of the events plugin: the cleanup window as Node trims it, a lost
``LISTEN`` connection, schema division mode, and the memory store on MySQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
import anyio
import anyio.abc
import anyio.lowlevel
import pytest
from _support.http import request
from _support.polling import eventually
from backstage_plugin_events_backend import (
    DatabaseEventBusStore,
    EventWindow,
    ListenerClosedError,
    events_plugin,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from backstage_runtime import EventParams, core_services
from backstage_runtime.testing import (
    TestBackend,
    TestDatabases,
    mock_credentials,
    start_test_backend,
)

pytestmark = pytest.mark.anyio

SERVICE = mock_credentials.service.headers("plugin:catalog")


async def postgres_backend(test_databases: TestDatabases, **database: Any) -> Any:
    config = {
        "backend": {"database": await test_databases.backend_config("POSTGRES", **database)},
        "events": {"notifyTimeoutMs": 30_000},
    }
    return start_test_backend(features=[events_plugin], config=config)


async def store_of(test: TestBackend, window: EventWindow) -> DatabaseEventBusStore:
    """A second store over the plugin's (migrated) database, with its own window."""
    database = await test.get_service(core_services.database, "events")
    logger = await test.get_service(core_services.logger, "events")
    return DatabaseEventBusStore(await database.get_client(), logger, window=window)


async def test_cleanup_keeps_the_newest_events_of_the_count_and_drops_subscribers_behind_them(
    test_databases: TestDatabases,
) -> None:
    async with await postgres_backend(test_databases) as test:
        store = await store_of(test, EventWindow(min_age=timedelta(0), max_count=2))
        await store.upsert_subscription("behind", ["t"], "service=test")
        for n in range(5):
            await store.publish(EventParams(topic="t", event_payload=n), [], "service=test")
        await store.upsert_subscription("current", ["t"], "service=test")
        await store.cleanup()
        logged = [e.message for e in test.logger.entries]
        # "behind" never read: its cursor is before the oldest event kept, it is gone.
        with pytest.raises(Exception, match="Subscription with ID 'behind' not found"):
            await store.read_subscription("behind")
        assert await store.read_subscription("current") == []
        await store.close()
    assert "Event cleanup resulted in 3 old events being deleted" in logged
    assert "Subscription cleanup resulted in 1 stale subscribers being deleted" in logged


async def test_cleanup_keeps_events_younger_than_the_minimum_age_whatever_their_count(
    test_databases: TestDatabases,
) -> None:
    async with await postgres_backend(test_databases) as test:
        store = await store_of(test, EventWindow(max_count=1))
        await store.upsert_subscription("s", ["t"], "service=test")
        for n in range(3):
            await store.publish(EventParams(topic="t", event_payload=n), [], "service=test")
        await store.cleanup()
        events = await store.read_subscription("s")
        await store.close()
    assert [e.event_payload for e in events] == [0, 1, 2]


async def test_cleanup_drops_every_event_past_the_maximum_age_and_then_idle_subscriptions(
    test_databases: TestDatabases,
) -> None:
    async with await postgres_backend(test_databases) as test:
        store = await store_of(test, EventWindow(min_age=timedelta(0), max_age=timedelta(0)))
        await store.upsert_subscription("s", ["t"], "service=test")
        await store.publish(EventParams(topic="t", event_payload=1), [], "service=test")
        await store.cleanup()  # the event goes; the subscription had read nothing: it goes too
        await store.cleanup()
        with pytest.raises(Exception, match="not found"):
            await store.read_subscription("s")
        await store.close()


async def test_a_lost_listen_connection_answers_the_held_polls_and_the_next_poll_listens_again(
    test_databases: TestDatabases,
) -> None:
    async with await postgres_backend(test_databases) as test:
        base = await test.url("/api/events")
        put = await request(
            "PUT", f"{base}/bus/v1/subscriptions/s", json={"topics": ["t"]}, headers=SERVICE
        )
        assert put.status == 201
        database = await test.get_service(core_services.database, "events")
        engine = await database.get_client()
        url = f"{base}/bus/v1/subscriptions/s/events"
        async with aiohttp.ClientSession() as session:
            poll = await session.get(url, headers=SERVICE)
            assert poll.status == 202
            async with engine.connect() as conn:
                killed = await conn.scalar(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
                    )
                )
            assert killed == 1
            with anyio.fail_after(10):
                assert await poll.read() == b""
            # A new poll opens a new LISTEN connection, and a publish wakes it.
            poll = await session.get(url, headers=SERVICE)
            assert poll.status == 202
            body = {"event": {"topic": "t", "payload": "after"}}
            published = await request("POST", f"{base}/bus/v1/events", json=body, headers=SERVICE)
            assert published.status == 201
            with anyio.fail_after(10):
                assert await poll.read() == b""
        again = await request("GET", url, headers=SERVICE)
        assert again.json() == {"events": [{"topic": "t", "payload": "after"}]}
    errors = [e.message for e in test.logger.entries if e.level == "error"]
    assert errors == ["Listener connection failed, notifying all listeners"]


async def test_schema_division_mode_keeps_the_bus_in_the_plugins_schema(
    test_databases: TestDatabases,
) -> None:
    async with await postgres_backend(test_databases, division_mode="schema") as test:
        base = await test.url("/api/events")
        await request(
            "PUT", f"{base}/bus/v1/subscriptions/s", json={"topics": ["t"]}, headers=SERVICE
        )
        body = {"event": {"topic": "t", "payload": 1}}
        assert (
            await request("POST", f"{base}/bus/v1/events", json=body, headers=SERVICE)
        ).status == 201
        reply = await request("GET", f"{base}/bus/v1/subscriptions/s/events", headers=SERVICE)
        database = await test.get_service(core_services.database, "events")
        async with (await database.get_client()).connect() as conn:
            schema = await conn.scalar(
                text(
                    "SELECT table_schema FROM information_schema.tables "
                    "WHERE table_name = 'event_bus_events'"
                )
            )
    assert reply.json() == {"events": [{"topic": "t", "payload": 1}]}
    assert schema == "events"


async def test_on_mysql_the_plugin_uses_the_memory_store_as_node_does(
    test_databases: TestDatabases,
) -> None:
    config = {"backend": {"database": await test_databases.backend_config("MYSQL_8")}}
    async with start_test_backend(features=[events_plugin], config=config) as test:
        base = await test.url("/api/events")
        reply = await request("GET", f"{base}/bus/v1/subscriptions/nope/events", headers=SERVICE)
        await eventually(
            lambda: any(
                e.message == "Database is not PostgreSQL, using memory store"
                for e in test.logger.entries
            )
        )
    assert reply.json()["error"]["message"] == "Subscription not found"


async def test_concurrent_publishes_from_two_stores_reach_a_reader_reading_meanwhile(
    test_databases: TestDatabases,
) -> None:
    """Ids commit in order: a cursor moved while other publishes are in flight skips none."""
    async with await postgres_backend(test_databases) as test:
        first = await store_of(test, EventWindow())
        second = await store_of(test, EventWindow())
        await first.upsert_subscription("s", ["t"], "service=test")
        got: list[int] = []
        done = anyio.Event()

        async def publish(store: DatabaseEventBusStore, start: int) -> None:
            for n in range(start, start + 40, 2):
                await store.publish(EventParams(topic="t", event_payload=n), [], "service=test")

        async def read() -> None:
            while not done.is_set() or len(got) < 40:
                got.extend(e.event_payload for e in await first.read_subscription("s"))
                if done.is_set() and len(got) < 40:
                    # Everything is committed: a read that brings nothing means a lost event.
                    batch = await first.read_subscription("s")
                    assert batch, f"lost events: {sorted(set(range(40)) - set(got))}"
                    got.extend(e.event_payload for e in batch)
                await anyio.lowlevel.checkpoint()

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                group.start_soon(read)
                async with anyio.create_task_group() as publishers:
                    publishers.start_soon(publish, first, 0)
                    publishers.start_soon(publish, second, 1)
                done.set()
        await first.close()
        await second.close()
    assert sorted(got) == list(range(40))


class FreezingProxy:
    """A TCP proxy to PostgreSQL whose connections can be frozen: bytes stop flowing while the
    sockets stay open, as when a database host vanishes without a word."""

    def __init__(self) -> None:
        self.port = 0
        self.frozen: list[anyio.Event] = []
        self._listener: Any = None

    async def serve(self, group: Any) -> None:
        self._listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        self.port = self._listener.extra(anyio.abc.SocketAttribute.local_port)
        group.start_soon(self._listener.serve, self._handle)

    def freeze_existing(self) -> None:
        for frozen in self.frozen:
            frozen.set()

    async def _handle(self, client: Any) -> None:
        frozen = anyio.Event()
        self.frozen.append(frozen)
        async with client, await anyio.connect_tcp("127.0.0.1", 5432) as server:

            async def pump(source: Any, sink: Any) -> None:
                try:
                    async for chunk in source:
                        if frozen.is_set():
                            await anyio.sleep_forever()
                        await sink.send(chunk)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    pass

            async with anyio.create_task_group() as pumps:
                pumps.start_soon(pump, client, server)
                pumps.start_soon(pump, server, client)


async def test_the_keepalive_replaces_a_listening_connection_that_stopped_answering(
    test_databases: TestDatabases,
) -> None:
    async with await postgres_backend(test_databases) as test, anyio.create_task_group() as group:
        proxy = FreezingProxy()
        await proxy.serve(group)
        database = await test.get_service(core_services.database, "events")
        direct = await database.get_client()
        logger = await test.get_service(core_services.logger, "events")
        proxied = create_async_engine(direct.url.set(port=proxy.port))
        store = DatabaseEventBusStore(proxied, logger, keepalive_timeout=0.5)
        publisher = DatabaseEventBusStore(direct, logger)
        await publisher.upsert_subscription("s", ["t"], "service=test")

        with await store.listen("s") as waiter:
            await store.keepalive()  # a healthy connection is kept
            assert not waiter.woken.is_set()
            proxy.freeze_existing()
            with anyio.fail_after(10):
                await store.keepalive()
                with pytest.raises(ListenerClosedError):
                    await waiter.wait()
        # The next poll listens on a new connection, and a publish elsewhere wakes it.
        with await store.listen("s") as waiter:
            await publisher.publish(EventParams(topic="t", event_payload=1), [], "service=test")
            with anyio.fail_after(10):
                assert await waiter.wait() == "t"
        await store.close()
        await publisher.close()
        with anyio.move_on_after(5):
            await proxied.dispose(close=False)
        group.cancel_scope.cancel()
    errors = [e.message for e in test.logger.entries if e.level == "error"]
    assert errors == ["Listener connection failed, notifying all listeners"]
