"""Two ``backstage-runtime serve`` processes over one PostgreSQL database, each with the events
plugin (installed as its distribution) and a subscriber plugin: events published on one (through
its HTTP ingress) reach the subscriber on the other; a subscriber process SIGKILLed or stopped
while events are published gets every one of them once it is back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from _support.polling import eventually
from _support.serve import ServeProcess, install_contrib_distribution, install_fake_distribution
from anyio.abc import TaskGroup

from backstage_runtime.testing import TestDatabases

pytestmark = [pytest.mark.anyio, pytest.mark.contrib]

TOPIC = "probe.topic"

PROBE_PLUGIN = """
import os

from quart import Blueprint

from backstage_runtime import core_services, create_backend_plugin, events_service_ref


def register(env):
    received = []

    async def init(http, events):
        routes = Blueprint("probe", __name__)

        @routes.get("/received")
        async def got():
            return {"received": received}

        http.use(routes)
        http.add_auth_policy(path="/received", allow="unauthenticated")
        if os.environ.get("PROBE_SUBSCRIBE") == "1":
            async def on_event(event):
                received.append(event.event_payload)

            await events.subscribe(id="probe", topics=["probe.topic"], on_event=on_event)

    env.register_init(
        deps={"http": core_services.http_router, "events": events_service_ref}, init=init
    )


probe_plugin = create_backend_plugin(plugin_id="probe", register=register)
"""


class Instance:
    """One ``serve`` process; ``subscribe`` says whether its probe plugin subscribes."""

    def __init__(self, cwd: Path, env: dict[str, str], subscribe: bool) -> None:
        self.cwd = cwd
        self.env = {**env, "PROBE_SUBSCRIBE": "1" if subscribe else "0"}
        self.serve: ServeProcess | None = None
        self.base = ""

    async def start(self, readers: TaskGroup) -> None:
        self.serve = await ServeProcess.start(self.cwd, env=self.env)
        port = (await self.serve.read_until("Listening on", timeout=60))["port"]
        await self.serve.read_until("Backend started", timeout=60)
        self.base = f"http://127.0.0.1:{port}"
        readers.start_soon(self.serve.drain)

    async def post_webhook(self, session: aiohttp.ClientSession, payload: Any) -> None:
        async with session.post(f"{self.base}/api/events/http/{TOPIC}", json=payload) as reply:
            assert reply.status == 202, await reply.text()

    async def received(self, session: aiohttp.ClientSession) -> list[Any]:
        async with session.get(f"{self.base}/api/probe/received") as reply:
            assert reply.status == 200
            return list((await reply.json())["received"])

    def subscribed(self) -> bool:
        assert self.serve is not None
        return any(
            line["message"].startswith("Reading subscription 'probe.probe'")
            for line in self.serve.lines
        )

    async def close(self) -> None:
        if self.serve is not None:
            await self.serve.kill()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The events-backend distribution and the probe plugin, installed into a folder of their
    own (not into the running environment)."""
    target = tmp_path_factory.mktemp("events-site")
    install_contrib_distribution(target, "events-backend")
    install_fake_distribution(
        target, "probe_plugin", PROBE_PLUGIN, "probe = probe_plugin:probe_plugin"
    )
    return target


@pytest.fixture
async def cluster(
    tmp_path: Path, site: Path, test_databases: TestDatabases
) -> AsyncIterator[tuple[Instance, Instance, TaskGroup]]:
    await test_databases.init("POSTGRES")  # skips (or fails on CI) without PostgreSQL
    prefix = f"evproc_{uuid.uuid4().hex[:8]}_"
    test_databases.track_prefix(prefix)
    (tmp_path / "app-config.yaml").write_text(
        textwrap.dedent(
            f"""
            backend:
              baseUrl: http://127.0.0.1
              listen: {{host: 127.0.0.1, port: 0}}
              database:
                client: pg
                connection: postgresql://postgres@127.0.0.1:5432/postgres
                prefix: {prefix}
              lifecycle:
                # Longer than any stop should take: a poll held open would show in the time.
                shutdownHookTimeout: {{seconds: 30}}
            events:
              http:
                topics: [{TOPIC}]
            """
        )
    )
    env = {"PYTHONPATH": str(site), "LOG_LEVEL": "debug"}
    publisher = Instance(tmp_path, env, subscribe=False)
    subscriber = Instance(tmp_path, env, subscribe=True)
    async with anyio.create_task_group() as readers:
        try:
            await publisher.start(readers)
            await subscriber.start(readers)
            yield publisher, subscriber, readers
        finally:
            await subscriber.close()
            await publisher.close()


async def test_events_published_on_one_process_reach_the_subscriber_on_the_other(
    cluster: tuple[Instance, Instance, TaskGroup],
) -> None:
    publisher, subscriber, _readers = cluster
    await eventually(subscriber.subscribed, timeout=30)
    async with aiohttp.ClientSession() as session:
        for n in range(3):
            await publisher.post_webhook(session, {"n": n})

        async def all_there() -> bool:
            return len(await subscriber.received(session)) == 3

        await eventually(all_there, timeout=20)
        assert await subscriber.received(session) == [{"n": 0}, {"n": 1}, {"n": 2}]
        # The publishing process has no subscriber of its own: nothing was delivered there.
        assert await publisher.received(session) == []


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
async def test_a_subscriber_stopped_while_events_are_published_gets_every_one_when_back(
    how: str, cluster: tuple[Instance, Instance, TaskGroup]
) -> None:
    publisher, subscriber, readers = cluster
    await eventually(subscriber.subscribed, timeout=30)
    async with aiohttp.ClientSession() as session:
        await publisher.post_webhook(session, "before")

        async def first_there() -> bool:
            return await subscriber.received(session) == ["before"]

        await eventually(first_there, timeout=20)
        # Its poll is now held open at its own events plugin, waiting for news.
        assert subscriber.serve is not None
        if how == "SIGKILL":
            subscriber.serve.process.kill()
            with anyio.fail_after(10):
                await subscriber.serve.process.wait()
        else:
            started = anyio.current_time()
            subscriber.serve.send_signal(signal.SIGTERM)
            with anyio.fail_after(30):
                assert await subscriber.serve.process.wait() == 0
            # The held poll was answered at once, not after its 55 s notify timeout.
            assert anyio.current_time() - started < 10
        await subscriber.close()
        missed = [f"while down {n}" for n in range(5)]
        for payload in missed:
            await publisher.post_webhook(session, payload)

        await subscriber.start(readers)

        async def caught_up() -> bool:
            return len(await subscriber.received(session)) >= len(missed)

        await eventually(caught_up, timeout=30)
        assert await subscriber.received(session) == missed


def test_the_installed_distribution_advertises_the_events_plugin(
    site: Path, tmp_path: Path
) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("backstage-runtime")), "plugins"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(site)},
    )
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if " events " in f" {line} ")
    assert row.split() == [
        "plugin",
        "events",
        "backstage-plugin-events-backend",
        "events",
        "=",
        "backstage_plugin_events_backend:events_plugin",
        "loaded",
    ]
