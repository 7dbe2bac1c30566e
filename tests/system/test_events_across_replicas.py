"""Events across three replicas behind HAProxy (tests/_support/replicas.py), each with the events
backend (its distribution, installed into a folder of its own) and a probe plugin subscribing
twice: as ``probe.own-<replica>`` (an id of its own) to ``fanout`` and as ``probe.shared`` (one
id on all three) to ``shared``.

Events are published through the probe's route (the events service of whichever instance
HAProxy picks: local subscribers first, then the bus) or straight onto the bus API with a static
service token (as a backend without the subscriber would). An event reaches every instance's own
subscription and one instance's shared one; during a rolling restart no publishing request is
refused and no accepted event is lost, neither for the shared id nor for the own id of the
instance that was down. Each delivery is a log line of the receiving process, read from its stdout, so deliveries survive restarts.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp
import anyio
import pytest
from _support.polling import eventually
from _support.replicas import Cluster, replica_cluster
from _support.serve import ServeProcess, install_contrib_distribution, install_fake_distribution
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.anyio

REPLICAS = 3
NAMES = [f"r{index}" for index in range(REPLICAS)]
OWN_IDS = [f"probe.own-{name}" for name in NAMES]
SHARED_ID = "probe.shared"
# A static external-access token: the test publishes onto the bus API with service credentials.
TOKEN = f"events-replicas-{uuid.uuid4().hex}"
# Polls of conditions over log lines: often enough, without scanning them every 5 ms.
POLL = 0.05

PROBE_PLUGIN = """
import os
import time

from quart import Blueprint, request

from backstage_runtime import core_services, create_backend_plugin, events_service_ref


def register(env):
    async def init(http, events, logger):
        replica = os.environ["REPLICA_NAME"]
        routes = Blueprint("probe", __name__)

        @routes.post("/publish")
        async def publish():
            body = await request.get_json()
            payload = {"key": body["key"], "sent": time.time()}
            await events.publish(topic=body["topic"], event_payload=payload)
            return {"replica": replica}

        http.use(routes)
        http.add_auth_policy(path="/publish", allow="unauthenticated")

        def recorder(subscription):
            async def on_event(event):
                # One line per delivery: the test reads them from stdout, across restarts.
                logger.info(
                    "Probe received",
                    {
                        "subscription": subscription,
                        "topic": event.topic,
                        "key": event.event_payload["key"],
                        "sent": event.event_payload["sent"],
                        "at": time.time(),
                    },
                )

            return on_event

        own = f"own-{replica}"
        await events.subscribe(id=own, topics=["fanout"], on_event=recorder(f"probe.{own}"))
        await events.subscribe(id="shared", topics=["shared"], on_event=recorder("probe.shared"))

    env.register_init(
        deps={
            "http": core_services.http_router,
            "events": events_service_ref,
            "logger": core_services.logger,
        },
        init=init,
    )


probe_plugin = create_backend_plugin(plugin_id="probe", register=register)
"""


@dataclass(frozen=True)
class Delivery:
    """One event handled by one subscription on one replica."""

    replica: str
    subscription: str
    key: str
    latency: float


class Inbox:
    """The ``Probe received`` lines of every process of every replica, parsed once each."""

    def __init__(self, cluster: Cluster) -> None:
        self._cluster = cluster
        self._read: dict[int, int] = {}
        self.deliveries: list[Delivery] = []

    def refresh(self) -> list[Delivery]:
        """Every delivery logged so far (new lines parsed since the last call)."""
        for name, replica in zip(NAMES, self._cluster.replicas, strict=True):
            for serve in replica.processes:
                self._parse(name, serve)
        return self.deliveries

    def _parse(self, name: str, serve: ServeProcess) -> None:
        start = self._read.get(id(serve), 0)
        lines = serve.lines[start:]
        self._read[id(serve)] = start + len(lines)
        for line in lines:
            if line["message"] == "Probe received":
                self.deliveries.append(
                    Delivery(name, line["subscription"], line["key"], line["at"] - line["sent"])
                )

    def counts(self, keys: set[str]) -> Counter[tuple[str, str]]:
        """How often each ``(subscription, key)`` was delivered, for ``keys``."""
        return Counter(
            (delivery.subscription, delivery.key)
            for delivery in self.refresh()
            if delivery.key in keys
        )


class Publisher:
    """Publishes through HAProxy: with the probe's route or straight onto the bus API."""

    def __init__(self, session: aiohttp.ClientSession, cluster: Cluster) -> None:
        self._session = session
        self._base = cluster.balancer.url
        #: Why requests failed: ``"<how> <status>: <message>"`` or the client error's name.
        self.refused: Counter[str] = Counter()

    async def _refused(self, how: str, reply: aiohttp.ClientResponse) -> None:
        try:
            message = (await reply.json(content_type=None))["error"]["message"]
        except Exception:
            message = (await reply.text())[:200]
        self.refused[f"{how} {reply.status}: {message}"] += 1

    async def via_route(self, topic: str, key: str) -> str | None:
        """The replica whose events service published, or None when the request failed."""
        try:
            async with self._session.post(
                f"{self._base}/api/probe/publish", json={"topic": topic, "key": key}
            ) as reply:
                if reply.status != 200:
                    await self._refused("route", reply)
                    return None
                replica: str = (await reply.json())["replica"]
                return replica
        except aiohttp.ClientError as error:
            self.refused[f"route {type(error).__name__}"] += 1
            return None

    async def via_bus(self, topic: str, key: str) -> bool:
        """Whether the bus stored the event (201)."""
        event = {"topic": topic, "payload": {"key": key, "sent": time.time()}}
        try:
            async with self._session.post(
                f"{self._base}/api/events/bus/v1/events",
                json={"event": event},
                headers={"Authorization": f"Bearer {TOKEN}"},
            ) as reply:
                if reply.status != 201:
                    await self._refused("bus", reply)
                return reply.status == 201
        except aiohttp.ClientError as error:
            self.refused[f"bus {type(error).__name__}"] += 1
            return False


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    # The cluster is started once for this module's tests (it takes several seconds).
    return "asyncio"


@pytest.fixture(scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    directory = tmp_path_factory.mktemp("events-replicas")
    site = directory / "site"
    install_contrib_distribution(site, "events-backend")
    install_fake_distribution(
        site, "probe_plugin", PROBE_PLUGIN, "probe = probe_plugin:probe_plugin"
    )
    backend = f"""
        auth:
          externalAccess:
            - type: static
              options: {{token: {TOKEN}, subject: events-replicas-test}}
        """
    async with replica_cluster(
        directory, site, count=REPLICAS, backend=backend, env=lambda i: {"REPLICA_NAME": NAMES[i]}
    ) as running:
        await _wait_for_subscriptions(running)
        yield running


async def _wait_for_subscriptions(cluster: Cluster) -> None:
    """Until the bus knows every subscription (each instance creates its own in the background
    after it started): events published from then on are kept for each of them."""
    engine = create_async_engine(
        f"postgresql+asyncpg://postgres@127.0.0.1:5432/{cluster.prefix}events"
    )

    async def all_there() -> bool:
        async with engine.connect() as connection:
            ids = set(
                (await connection.execute(text("SELECT id FROM event_bus_subscriptions"))).scalars()
            )
        return ids >= {*OWN_IDS, SHARED_ID}

    try:
        await eventually(all_there, timeout=30, interval=POLL)
    finally:
        await engine.dispose()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as client:
        yield client


def _latencies(deliveries: list[Delivery], keep: Callable[[Delivery], bool]) -> str:
    values = sorted(d.latency * 1000 for d in deliveries if keep(d))
    if not values:
        return "none"
    return (
        f"n={len(values)} median={statistics.median(values):.0f}ms "
        f"p95={values[int(len(values) * 0.95) - 1]:.0f}ms max={values[-1]:.0f}ms"
    )


async def test_an_event_reaches_every_own_subscription_and_one_shared_one(
    cluster: Cluster, session: aiohttp.ClientSession
) -> None:
    publisher = Publisher(session, cluster)
    inbox = Inbox(cluster)
    fanout_route = [f"fanout-route-{n}" for n in range(9)]
    fanout_bus = [f"fanout-bus-{n}" for n in range(3)]
    shared_route = [f"shared-route-{n}" for n in range(9)]
    shared_bus = [f"shared-bus-{n}" for n in range(9)]
    published_by: dict[str, str | None] = {}
    for key in fanout_route:
        published_by[key] = await publisher.via_route("fanout", key)
    for key in shared_route:
        published_by[key] = await publisher.via_route("shared", key)
    for key in fanout_bus + shared_bus:
        assert await publisher.via_bus(key.split("-")[0], key), key
    assert None not in published_by.values(), published_by
    # HAProxy spread the route's publishes over the three instances.
    assert set(published_by.values()) == set(NAMES), published_by

    fanout = set(fanout_route + fanout_bus)
    shared = set(shared_route + shared_bus)

    def all_delivered() -> bool:
        counts = inbox.counts(fanout | shared)
        return all(counts[own, key] for own in OWN_IDS for key in fanout) and all(
            counts[SHARED_ID, key] for key in shared
        )

    await eventually(all_delivered, timeout=30, interval=POLL)
    counts = inbox.counts(fanout | shared)
    # Every own subscription got every fanout event once: locally on the publishing instance,
    # through the bus on the others.
    assert {(own, key): counts[own, key] for own in OWN_IDS for key in fanout} == {
        (own, key): 1 for own in OWN_IDS for key in fanout
    }
    # The shared id got each event once, on one instance: the publishing one when it had the
    # subscriber itself (the bus then skips the id), any of them when the event came from outside.
    assert {key: counts[SHARED_ID, key] for key in shared} == dict.fromkeys(shared, 1)
    deliveries = inbox.refresh()
    shared_at = {d.key: d.replica for d in deliveries if d.subscription == SHARED_ID}
    assert {key: shared_at[key] for key in shared_route} == {
        key: published_by[key] for key in shared_route
    }
    spread = Counter(shared_at[key] for key in shared_bus)
    local = {(published_by[key], f"probe.own-{published_by[key]}", key) for key in fanout_route}
    print(
        f"\nsteady: {len(fanout)} fanout events x {REPLICAS} own ids, {len(shared)} shared; "
        f"shared from the bus delivered on {dict(sorted(spread.items()))}; latency local "
        + _latencies(deliveries, lambda d: (d.replica, d.subscription, d.key) in local)
        + "; through the bus "
        + _latencies(
            deliveries,
            lambda d: (
                d.key in fanout | shared
                and (d.replica, d.subscription, d.key) not in local
                and d.key not in shared_route
            ),
        )
    )


async def test_a_rolling_restart_loses_no_event(
    cluster: Cluster, session: aiohttp.ClientSession
) -> None:
    publisher = Publisher(session, cluster)
    inbox = Inbox(cluster)
    shared: list[str] = []  # onto the bus, accepted
    fanout: list[str] = []  # through the route, answered 200
    #: Per replica: the events accepted while it was down.
    while_down: dict[str, set[str]] = {}
    running = True

    async def publish() -> None:
        for n in range(1_000_000):
            if not running:
                return
            key = f"roll-{n}"
            if n % 2 == 0:
                if await publisher.via_bus("shared", key):
                    shared.append(key)
            elif await publisher.via_route("fanout", key) is not None:
                fanout.append(key)
            # Pacing the load (about 30 events a second), not waiting for anything.
            await anyio.sleep(0.03)

    def accepted() -> set[str]:
        return {*shared, *fanout}

    async def more_accepted(count: int) -> None:
        target = len(shared) + len(fanout) + count
        await eventually(lambda: len(shared) + len(fanout) >= target, timeout=30, interval=POLL)

    async with anyio.create_task_group() as group:
        group.start_soon(publish)
        await more_accepted(10)
        for name, replica in zip(NAMES, cluster.replicas, strict=True):
            assert await replica.stop() == 0
            # Some events are published while it is down (besides those during its stop).
            stopped = accepted()
            await more_accepted(6)
            await replica.start(cluster.readers)
            while_down[name] = accepted() - stopped
            assert while_down[name], name
            await cluster.balancer.wait_for(name, "UP")
            await more_accepted(6)
        running = False

    keys = accepted()

    def all_delivered() -> bool:
        counts = inbox.counts(keys)
        return all(counts[own, key] for own in OWN_IDS for key in fanout) and all(
            counts[SHARED_ID, key] for key in shared
        )

    # Up to 30 s for the stragglers; then what is still missing is listed, not just timed out.
    with anyio.move_on_after(30):
        await eventually(all_delivered, timeout=60, interval=POLL)
    counts = inbox.counts(keys)
    missing = sorted(
        [(own, key) for own in OWN_IDS for key in fanout if not counts[own, key]]
        + [(SHARED_ID, key) for key in shared if not counts[SHARED_ID, key]]
    )
    duplicates = sorted(pair for pair, count in counts.items() if count > 1)
    deliveries = inbox.refresh()
    print(
        f"\nrolling restart: {len(shared)} shared events onto the bus, {len(fanout)} fanout "
        f"through the route, refused {dict(publisher.refused)}; published while down "
        f"{ {name: len(down) for name, down in while_down.items()} }; missing {len(missing)}, "
        f"duplicates {len(duplicates)}; latency "
        + _latencies(deliveries, lambda d: d.key in keys)
        + "; of the events an instance got after coming back "
        + _latencies(
            deliveries,
            lambda d: d.subscription == f"probe.own-{d.replica}" and d.key in while_down[d.replica],
        )
    )
    assert not missing, missing
    # At least once per id: a duplicate is allowed by the contract, and shown above. And as for
    # any request in a rolling restart, HAProxy moved the publishing ones away in time: none
    # was refused (publishing still works while an instance drains, before its plugins stop).
    assert not publisher.refused, publisher.refused
