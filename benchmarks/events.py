"""Events: throughput and delivery latency, in one backend and across two through PostgreSQL.

Three figures, measured in one run so that they share the machine's state:

1. ``raw NOTIFY``: the baseline — one asyncpg connection sends ``pg_notify`` to another that
   ``LISTEN``s, the floor of anything that wakes a reader through PostgreSQL;
2. ``in-process``: a ``catalog`` plugin publishes through the events service to a ``search``
   plugin's subscriber in the same backend (``events.useEventBus: never``);
3. ``two instances``: two backends in this process, each serving HTTP on its own port with the
   events backend plugin (``contrib/events-backend``) on one shared PostgreSQL database; the
   publisher is on one, the subscriber on the other, so each event crosses the bus API, the
   database and ``LISTEN/NOTIFY`` (the plugin is taken from this checkout when not installed).

Each phase publishes ``--events`` events one after the other (latency: publish call to the
subscriber's handler, p50/p99) and then ``--events`` more with ``--concurrency`` publishers at
once (events/s: all published to all received). Run:

    python benchmarks/events.py [--events 2000] [--concurrency 50]

PostgreSQL comes from BACKSTAGE_TEST_DATABASE_POSTGRES_CONNECTION_STRING (default: postgres on
127.0.0.1:5432); the benchmark creates its database and drops it afterwards.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import asyncpg

from backstage_runtime import (
    EventParams,
    create_backend,
    create_backend_plugin,
    events_service_ref,
)
from backstage_runtime.testing import TestDatabases

TOPIC = "bench.events"
EVENTS_BACKEND_SOURCE = Path(__file__).resolve().parent.parent / "contrib" / "events-backend"

Publish = Callable[[int], Awaitable[None]]


@dataclass
class Deliveries:
    """When each event (by sequence number) was published and when it arrived."""

    sent: dict[int, float] = field(default_factory=dict)
    received: dict[int, float] = field(default_factory=dict)
    arrived: anyio.Event = field(default_factory=anyio.Event)
    expected: int = 0

    def arrive(self, number: int) -> None:
        self.received.setdefault(number, time.perf_counter())
        if len(self.received) >= self.expected:
            self.arrived.set()

    def expect(self, count: int) -> None:
        self.expected = count
        self.arrived = anyio.Event()
        if len(self.received) >= count:
            self.arrived.set()


async def measure(
    name: str, deliveries: Deliveries, publish: Publish, events: int, concurrency: int
) -> str:
    """Sequential latency, then concurrent throughput, as one printed line."""
    deliveries.expect(events)
    for number in range(events):
        deliveries.sent[number] = time.perf_counter()
        await publish(number)
    with anyio.fail_after(60):
        await deliveries.arrived.wait()
    latencies = sorted((deliveries.received[n] - deliveries.sent[n]) * 1000 for n in range(events))
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]

    numbers = iter(range(events, 2 * events))
    deliveries.expect(2 * events)
    started = time.perf_counter()

    async def publisher() -> None:
        for number in numbers:
            deliveries.sent[number] = time.perf_counter()
            await publish(number)

    async with anyio.create_task_group() as group:
        for _ in range(concurrency):
            group.start_soon(publisher)
    with anyio.fail_after(60):
        await deliveries.arrived.wait()
    elapsed = time.perf_counter() - started
    rate = events / elapsed
    return f"{name:<14} {rate:9,.0f} events/s   latency p50 {p50:7.2f} ms  p99 {p99:7.2f} ms"


async def raw_notify(dsn: str, events: int, concurrency: int) -> str:
    """``pg_notify`` from one asyncpg connection pool to a listening connection."""
    deliveries = Deliveries()
    listener = await asyncpg.connect(dsn)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=min(concurrency, 10))
    try:

        def on_notify(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
            deliveries.arrive(json.loads(payload)["n"])

        await listener.add_listener("bench_events", on_notify)

        async def publish(number: int) -> None:
            await pool.execute("SELECT pg_notify('bench_events', $1)", json.dumps({"n": number}))

        return await measure("raw NOTIFY", deliveries, publish, events, concurrency)
    finally:
        await pool.close()
        await listener.close()


def _plugins(deliveries: Deliveries, publishers: list[Any]) -> tuple[Any, Any]:
    def register_publisher(env: Any) -> None:
        async def init(*, events: Any) -> None:
            publishers.append(events)

        env.register_init(deps={"events": events_service_ref}, init=init)

    def register_subscriber(env: Any) -> None:
        async def init(*, events: Any) -> None:
            async def on_event(event: EventParams) -> None:
                deliveries.arrive(event.event_payload["n"])

            await events.subscribe(id="bench", topics=[TOPIC], on_event=on_event)

        env.register_init(deps={"events": events_service_ref}, init=init)

    return (
        create_backend_plugin(plugin_id="catalog", register=register_publisher),
        create_backend_plugin(plugin_id="search", register=register_subscriber),
    )


def _publisher(events_service: Any) -> Publish:
    async def publish(number: int) -> None:
        await events_service.publish(topic=TOPIC, event_payload={"n": number})

    return publish


async def in_process(events: int, concurrency: int) -> str:
    """Publisher and subscriber plugins in one backend, no bus."""
    deliveries = Deliveries()
    publishers: list[Any] = []
    catalog, search = _plugins(deliveries, publishers)
    config = {"events": {"useEventBus": "never"}, "backend": {"logger": {"level": "warn"}}}
    async with create_backend(
        features=[catalog, search], serve_http=False, config_paths=[], config=config
    ):
        return await measure(
            "in-process", deliveries, _publisher(publishers[0]), events, concurrency
        )


@asynccontextmanager
async def _instance(features: list[Any], database: dict[str, Any]) -> AsyncIterator[None]:
    config = {
        "backend": {
            "listen": {"host": "127.0.0.1", "port": 0},
            "database": database,
            "logger": {"level": "warn"},
        },
        "events": {"useEventBus": "always"},
    }
    async with create_backend(features=features, config_paths=[], config=config):
        yield


async def two_instances(databases: TestDatabases, events: int, concurrency: int) -> str:
    """Publisher on one backend, subscriber on another, through our events backend on PostgreSQL."""
    from backstage_plugin_events_backend import events_plugin  # type: ignore[import-not-found]

    name = await databases.create_postgres_database()
    database = {
        "client": "pg",
        "connection": {**databases.postgres_connection(), "database": name},
        "pluginDivisionMode": "schema",
    }
    deliveries = Deliveries()
    publishers: list[Any] = []
    catalog, search = _plugins(deliveries, publishers)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(_instance([events_plugin, search], database))
        await stack.enter_async_context(_instance([events_plugin, catalog], database))
        return await measure(
            "two instances", deliveries, _publisher(publishers[0]), events, concurrency
        )


async def main(events: int, concurrency: int) -> None:
    async with TestDatabases(["POSTGRES"]) as databases:
        dsn = str(databases.postgres_url.set(drivername="postgresql"))
        print(await raw_notify(dsn, events, concurrency), flush=True)
        print(await in_process(events, concurrency), flush=True)
        if importlib.util.find_spec("backstage_plugin_events_backend") is None:
            sys.path.insert(0, str(EVENTS_BACKEND_SOURCE))
        print(await two_instances(databases, events, concurrency), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    arguments = parser.parse_args()
    anyio.run(main, arguments.events, arguments.concurrency)
