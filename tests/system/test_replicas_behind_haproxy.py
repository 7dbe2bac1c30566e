"""Backstage's scale-out model end to end: three identical instances over one PostgreSQL and one
Redis, behind a real HAProxy that health-checks readiness. A rolling restart under steady load
loses no request, a SIGKILLed instance costs at most the requests it held, and a global task
still runs once per interval across the three.
"""

from __future__ import annotations

import itertools
import shutil
import signal
import socket
import textwrap
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from _support.polling import eventually
from _support.serve import ServeProcess, install_fake_distribution
from anyio.abc import Process, TaskGroup
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from backstage_runtime.testing._infrastructure import infrastructure_missing

pytestmark = pytest.mark.anyio

POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
TICK_SECONDS = 0.7
LOAD_LOOPS = 4

REPLICA_PLUGIN = """
import os
import time

from quart import Blueprint
from sqlalchemy import text

from backstage_runtime import core_services, create_backend_plugin


def register(env):
    async def init(http, database, scheduler):
        engine = await database.get_client()
        async with engine.begin() as connection:
            await connection.execute(
                text("create table if not exists runs (pid integer, started double precision)")
            )
        routes = Blueprint("replica", __name__)

        @routes.get("/hello")
        async def hello():
            return {"pid": os.getpid()}

        @routes.get("/runs")
        async def runs():
            async with engine.connect() as connection:
                rows = await connection.execute(text("select pid, started from runs order by 2"))
                return {"runs": [[pid, started] for pid, started in rows]}

        http.use(routes)
        http.add_auth_policy(path="/", allow="unauthenticated")

        async def tick():
            started = time.time()
            async with engine.begin() as connection:
                await connection.execute(
                    text("insert into runs values (:pid, :started)"),
                    {"pid": os.getpid(), "started": started},
                )

        await scheduler.schedule_task(
            id="tick",
            frequency={"milliseconds": int(float(os.environ["TICK_SECONDS"]) * 1000)},
            timeout={"seconds": 5},
            fn=tick,
            scope="global",
        )

    env.register_init(
        deps={
            "http": core_services.http_router,
            "database": core_services.database,
            "scheduler": core_services.scheduler,
        },
        init=init,
    )


replica_plugin = create_backend_plugin(plugin_id="replica", register=register)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _reachable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


class Replica:
    """One ``serve`` instance; restarted on the port it first got."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd = cwd
        self.env = env
        self.port: int | None = None
        self.serve: ServeProcess | None = None
        self.pids: list[int] = []

    async def start(self, readers: TaskGroup) -> None:
        """Start and wait until it serves; ``readers`` keeps reading its log from then on."""
        args = [] if self.port is None else ["--port", str(self.port)]
        self.serve = await ServeProcess.start(self.cwd, args, self.env)
        self.port = int((await self.serve.read_until("Listening on", timeout=60))["port"])
        await self.serve.read_until("Backend started", timeout=60)
        self.pids.append(self.serve.process.pid)
        readers.start_soon(self.serve.drain)

    async def stop(self) -> int:
        """SIGTERM, and the exit status once it is gone."""
        assert self.serve is not None
        self.serve.send_signal(signal.SIGTERM)
        with anyio.fail_after(60):
            status = await self.serve.process.wait()
        await self.serve.kill()
        return status

    async def close(self) -> None:
        if self.serve is not None:
            await self.serve.kill()


class HAProxy:
    """A real HAProxy on loopback in front of the replicas, checking their readiness."""

    def __init__(self, directory: Path, replicas: list[Replica]) -> None:
        self.port = _free_port()
        self.stats = directory / "haproxy.sock"
        servers = "\n".join(
            f"  server r{index} 127.0.0.1:{replica.port} check"
            for index, replica in enumerate(replicas)
        )
        self.config = directory / "haproxy.cfg"
        self.config.write_text(
            textwrap.dedent(
                f"""
                global
                  stats socket {self.stats} level admin
                  maxconn 1000
                defaults
                  mode http
                  timeout connect 1s
                  timeout client 30s
                  timeout server 30s
                  # A refused connect is retried elsewhere, as any production balancer does; an
                  # accepted request that dies is not (that is what the SIGKILL test counts).
                  retries 3
                  option redispatch 1
                  retry-on conn-failure
                frontend web
                  bind 127.0.0.1:{self.port}
                  default_backend replicas
                backend replicas
                  balance roundrobin
                  option httpchk GET /.backstage/health/v1/readiness
                  http-check expect status 200
                  default-server inter 100ms fall 1 rise 2
                """
            )
            + servers
            + "\n"
        )
        self.process: Process | None = None

    async def start(self) -> None:
        binary = shutil.which("haproxy")
        assert binary is not None
        self.process = await anyio.open_process([binary, "-db", "-f", str(self.config)])

    async def server_states(self) -> dict[str, str]:
        """``{"r0": "UP", ...}`` from HAProxy's own stats socket."""
        try:
            stream = await anyio.connect_unix(str(self.stats))
        except OSError:
            return {}  # HAProxy has not opened its stats socket yet
        async with stream:
            await stream.send(b"show stat\n")
            data = b""
            try:
                while True:
                    data += await stream.receive()
            except anyio.EndOfStream:
                pass
        states: dict[str, str] = {}
        for line in data.decode().splitlines():
            fields = line.split(",")
            if len(fields) > 17 and fields[0] == "replicas" and fields[1].startswith("r"):
                states[fields[1]] = fields[17]
        return states

    async def wait_for(self, server: str, state: str) -> None:
        async def reached() -> bool:
            return (await self.server_states()).get(server, "").startswith(state)

        await eventually(reached, timeout=30)

    async def close(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            with anyio.move_on_after(10):
                await self.process.wait()
        if self.process is not None:
            await self.process.aclose()


class Load:
    """Steady GETs through the balancer from ``LOAD_LOOPS`` concurrent clients."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.outcomes: Counter[str] = Counter()
        self.pids: set[int] = set()
        self.running = True

    async def loop(self) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            while self.running:
                try:
                    async with session.get(self.url) as response:
                        if response.status == 200:
                            self.pids.add(int((await response.json())["pid"]))
                            self.outcomes["ok"] += 1
                        else:
                            self.outcomes[f"status {response.status}"] += 1
                except aiohttp.ClientError as error:
                    self.outcomes[type(error).__name__] += 1

    def failures(self) -> int:
        return sum(count for outcome, count in self.outcomes.items() if outcome != "ok")


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[tuple[list[Replica], HAProxy, TaskGroup]]:
    for what, port in (("PostgreSQL", 5432), ("Redis", 6379)):
        if not _reachable(port):
            infrastructure_missing(what, f"nothing listens on 127.0.0.1:{port}")
    if shutil.which("haproxy") is None:
        infrastructure_missing("HAProxy", "the haproxy binary is not on PATH (apt install haproxy)")
    prefix = f"replicas_{uuid.uuid4().hex[:8]}_"
    site = tmp_path / "site"
    install_fake_distribution(
        site, "replica_plugin", REPLICA_PLUGIN, "replica = replica_plugin:replica_plugin"
    )
    (tmp_path / "app-config.yaml").write_text(
        textwrap.dedent(
            f"""
            backend:
              baseUrl: http://localhost:7007
              listen: {{host: 127.0.0.1, port: 0}}
              database:
                client: pg
                connection: postgresql://postgres@127.0.0.1:5432/postgres
                prefix: {prefix}
              cache:
                store: redis
                redis:
                  connection: redis://127.0.0.1:6379
                  client: {{namespace: {prefix}}}
              lifecycle:
                # Longer than HAProxy's check interval: it sees readiness turn 503 first.
                serverShutdownDelay: {{milliseconds: 800}}
                shutdownHookTimeout: {{seconds: 5}}
            """
        )
    )
    env = {"PYTHONPATH": str(site), "TICK_SECONDS": str(TICK_SECONDS)}
    replicas = [Replica(tmp_path, env) for _ in range(3)]
    balancer: HAProxy | None = None
    try:
        async with anyio.create_task_group() as readers:
            try:
                # One after the other: the first creates the shared database and table.
                for replica in replicas:
                    await replica.start(readers)
                balancer = HAProxy(tmp_path, replicas)
                await balancer.start()
                for index in range(len(replicas)):
                    await balancer.wait_for(f"r{index}", "UP")
                yield replicas, balancer, readers
            finally:
                if balancer is not None:
                    await balancer.close()
                for replica in replicas:
                    await replica.close()
    finally:
        engine = create_async_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{prefix}replica"'))
        finally:
            await engine.dispose()


async def _more_answers(load: Load, count: int) -> None:
    target = load.outcomes["ok"] + count
    await eventually(lambda: load.outcomes["ok"] >= target, timeout=30)


async def _runs(balancer: HAProxy) -> list[list[Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{balancer.port}/api/replica/runs") as response,
    ):
        assert response.status == 200
        runs: list[list[Any]] = (await response.json())["runs"]
        return runs


async def test_a_rolling_restart_under_load_loses_no_request(
    cluster: tuple[list[Replica], HAProxy, TaskGroup],
) -> None:
    replicas, balancer, readers = cluster
    load = Load(f"http://127.0.0.1:{balancer.port}/api/replica/hello")
    async with anyio.create_task_group() as group:
        for _ in range(LOAD_LOOPS):
            group.start_soon(load.loop)
        await eventually(lambda: load.outcomes["ok"] >= 50, timeout=30)
        for index, replica in enumerate(replicas):
            assert await replica.stop() == 0
            await replica.start(readers)
            await balancer.wait_for(f"r{index}", "UP")
            await _more_answers(load, 20)
        load.running = False
    assert load.failures() == 0, load.outcomes
    # Traffic reached every restarted process, not just the survivors.
    assert {replica.pids[-1] for replica in replicas} <= load.pids


async def test_a_killed_instance_costs_at_most_the_requests_it_held(
    cluster: tuple[list[Replica], HAProxy, TaskGroup],
) -> None:
    replicas, balancer, _readers = cluster
    load = Load(f"http://127.0.0.1:{balancer.port}/api/replica/hello")
    victim = replicas[1]
    assert victim.serve is not None
    async with anyio.create_task_group() as group:
        for _ in range(LOAD_LOOPS):
            group.start_soon(load.loop)
        await eventually(lambda: load.outcomes["ok"] >= 50, timeout=30)
        victim.serve.process.kill()
        await balancer.wait_for("r1", "DOWN")
        await _more_answers(load, 50)
        load.running = False
    # Each client holds one request at a time, so at most LOAD_LOOPS were on the victim.
    assert load.failures() <= LOAD_LOOPS, load.outcomes


async def test_a_global_task_runs_once_per_interval_across_the_instances(
    cluster: tuple[list[Replica], HAProxy, TaskGroup],
) -> None:
    _replicas, balancer, _readers = cluster

    async def enough_runs() -> bool:
        return len(await _runs(balancer)) >= 6

    await eventually(enough_runs, timeout=60)
    starts = [started for _pid, started in await _runs(balancer)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    # Three instances compete for every run and the database lets exactly one take it: a run
    # taken twice would start twice within milliseconds. (Half the frequency of slack: each start
    # is stamped by the task itself, after the claim, on a machine busy with three backends.)
    assert min(gaps) >= TICK_SECONDS * 0.5, gaps
