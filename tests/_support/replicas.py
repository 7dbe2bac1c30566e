"""Several ``backstage-runtime serve`` instances over the machine's PostgreSQL and Redis, behind
a real HAProxy that health-checks their readiness (Backstage's scale-out model, end to end).

``replica_cluster`` starts them from a folder of installed plugins; the tests of
tests/system/test_replicas_behind_haproxy.py and tests/system/test_events_across_replicas.py
share it.
"""

from __future__ import annotations

import shutil
import signal
import socket
import sys
import textwrap
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import anyio
from anyio.abc import Process, TaskGroup
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from _support.polling import eventually
from _support.serve import ServeProcess
from backstage_runtime.testing._infrastructure import infrastructure_missing

POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
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
        #: Every process this replica ran, oldest first (their log lines stay readable).
        self.processes: list[ServeProcess] = []

    @property
    def pids(self) -> list[int]:
        """The process ids this replica ran, oldest first."""
        return [serve.process.pid for serve in self.processes]

    def lines(self) -> list[dict[str, Any]]:
        """The log entries of every process this replica ran, oldest first."""
        return [line for serve in self.processes for line in serve.lines]

    async def start(self, readers: TaskGroup) -> None:
        """Start and wait until it serves; ``readers`` keeps reading its log from then on."""
        args = [] if self.port is None else ["--port", str(self.port)]
        self.serve = await ServeProcess.start(self.cwd, args, self.env)
        self.processes.append(self.serve)
        self.port = int((await self.serve.read_until("Listening on", timeout=60))["port"])
        await self.serve.read_until("Backend started", timeout=60)
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
        """Make sure its process is gone (test cleanup)."""
        if self.serve is not None:
            await self.serve.kill()


class HAProxy:
    """A real HAProxy on loopback in front of the replicas, checking their readiness."""

    def __init__(self, directory: Path, replicas: list[Replica]) -> None:
        self.port = free_port()
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
                  # A dead or draining instance fails a check at once (refused, or a 503), so
                  # one failure takes it out; a live one slowed by a loaded machine must not
                  # be taken for dead, hence a check timeout well above the interval.
                  timeout check 2s
                  default-server inter 100ms fall 1 rise 2
                """
            )
            + servers
            + "\n"
        )
        self.process: Process | None = None

    @property
    def url(self) -> str:
        """The balancer's base URL."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start HAProxy (its servers come UP once their readiness checks pass)."""
        binary = shutil.which("haproxy")
        assert binary is not None
        # Its alerts ("Server replicas/r1 is DOWN, reason: ...") go to the test's stderr,
        # shown with a failure; a pipe nobody reads would also block HAProxy once full.
        self.process = await anyio.open_process(
            [binary, "-db", "-f", str(self.config)], stdout=sys.stderr, stderr=sys.stderr
        )

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
        """Wait until HAProxy reports ``server`` (``"r0"``...) in ``state`` (``"UP"``...)."""

        async def reached() -> bool:
            return (await self.server_states()).get(server, "").startswith(state)

        await eventually(reached, timeout=30)

    async def close(self) -> None:
        """Stop HAProxy."""
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            with anyio.move_on_after(10):
                await self.process.wait()
        if self.process is not None:
            await self.process.aclose()


class Load:
    """Steady GETs of ``url`` (answering ``{"pid": ...}``) from concurrent clients."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.outcomes: Counter[str] = Counter()
        #: The first answer's body (its start) of each failed outcome: who refused, and why.
        self.examples: dict[str, str] = {}
        self.pids: set[int] = set()
        self.running = True

    async def loop(self) -> None:
        """One client: a GET at a time until ``running`` turns false."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            while self.running:
                try:
                    async with session.get(self.url) as response:
                        if response.status == 200:
                            self.pids.add(int((await response.json())["pid"]))
                            self.outcomes["ok"] += 1
                        else:
                            outcome = f"status {response.status}"
                            self.outcomes[outcome] += 1
                            if outcome not in self.examples:
                                self.examples[outcome] = (await response.text())[:300]
                except aiohttp.ClientError as error:
                    self.outcomes[type(error).__name__] += 1

    def failures(self) -> int:
        """How many requests got no 200 answer."""
        return sum(count for outcome, count in self.outcomes.items() if outcome != "ok")


@dataclass
class Cluster:
    """The running replicas, their balancer, the task group reading their logs, and the
    database prefix they share."""

    replicas: list[Replica]
    balancer: HAProxy
    readers: TaskGroup
    prefix: str


@asynccontextmanager
async def replica_cluster(
    directory: Path,
    site: Path,
    *,
    count: int = 3,
    backend: str = "",
    config: str = "",
    env: Callable[[int], Mapping[str, str]] = lambda _index: {},
) -> AsyncIterator[Cluster]:
    """``count`` identical ``serve`` instances in ``directory`` with ``site`` on their
    ``PYTHONPATH``, over one PostgreSQL (a fresh database prefix) and one Redis, behind HAProxy.

    ``backend`` is more YAML under ``backend:`` (keys other than those set here), ``config``
    more app-config YAML at the top level (keys other than ``backend``); ``env(index)``
    adds environment variables per replica. Every database of the prefix is dropped at the end.
    """
    for what, port in (("PostgreSQL", 5432), ("Redis", 6379)):
        if not _reachable(port):
            infrastructure_missing(what, f"nothing listens on 127.0.0.1:{port}")
    if shutil.which("haproxy") is None:
        infrastructure_missing("HAProxy", "the haproxy binary is not on PATH (apt install haproxy)")
    prefix = f"replicas_{uuid.uuid4().hex[:8]}_"
    (directory / "app-config.yaml").write_text(
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
        + textwrap.indent(textwrap.dedent(backend), "  ")
        + textwrap.dedent(config)
    )
    replicas = [
        Replica(directory, {"PYTHONPATH": str(site), **env(index)}) for index in range(count)
    ]
    balancer: HAProxy | None = None
    try:
        async with anyio.create_task_group() as readers:
            try:
                # One after the other: the first creates the shared databases and tables.
                for replica in replicas:
                    await replica.start(readers)
                balancer = HAProxy(directory, replicas)
                await balancer.start()
                for index in range(len(replicas)):
                    await balancer.wait_for(f"r{index}", "UP")
                yield Cluster(replicas, balancer, readers, prefix)
            finally:
                if balancer is not None:
                    await balancer.close()
                for replica in replicas:
                    await replica.close()
    finally:
        await _drop_databases(prefix)


async def _drop_databases(prefix: str) -> None:
    engine = create_async_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            names = (
                await connection.execute(
                    text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix)"),
                    {"prefix": prefix},
                )
            ).scalars()
            for name in list(names):
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()
