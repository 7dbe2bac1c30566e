"""``serve --workers N``: N backends on one address, supervised, drained together on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import textwrap
from collections import Counter
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from _support.serve import CLI, ServeProcess, install_fake_distribution
from anyio.abc import TaskGroup

pytestmark = pytest.mark.anyio

PID_PLUGIN = """
import os
from pathlib import Path

import anyio
from quart import Blueprint

from backstage_runtime import core_services, create_backend_plugin

RELEASE = Path(os.environ["PID_RELEASE_FILE"])


def register(env):
    async def init(http, logger):
        routes = Blueprint("pid", __name__)

        @routes.get("/")
        async def pid():
            return {"pid": os.getpid()}

        @routes.post("/slow")
        async def slow():
            logger.info("slow request held", {"pid": os.getpid()})
            while not RELEASE.exists():
                await anyio.sleep(0.01)
            return {"pid": os.getpid()}

        http.use(routes)
        http.add_auth_policy(path="/", allow="unauthenticated")
        if os.environ.get("PID_FAIL_START"):
            raise RuntimeError("this plugin refuses to start")

    env.register_init(
        deps={"http": core_services.http_router, "logger": core_services.logger}, init=init
    )


pid_plugin = create_backend_plugin(plugin_id="pid", register=register)
"""

CONFIG = """
backend:
  baseUrl: http://localhost:7007
  listen: {host: 127.0.0.1, port: 0}
  # The drain tests release held requests after reading log lines; a loaded CI machine must not
  # turn the default 10 s drain budget into a cut (a 503) before the test gets there.
  lifecycle: {shutdownHookTimeout: 40s}
"""


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return sorted(int(child) for child in text.split())


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def _setup(tmp_path: Path, **env: str) -> dict[str, str]:
    site = tmp_path / "site"
    install_fake_distribution(site, "pid_plugin", PID_PLUGIN, "pid = pid_plugin:pid_plugin")
    (tmp_path / "app-config.yaml").write_text(textwrap.dedent(CONFIG))
    return {"PYTHONPATH": str(site), "PID_RELEASE_FILE": str(tmp_path / "release"), **env}


async def _start(tmp_path: Path, workers: int = 2, **env: str) -> tuple[ServeProcess, str]:
    serve = await ServeProcess.start(
        tmp_path,
        ["--workers", str(workers), "--allow-per-process-state"],
        _setup(tmp_path, **env),
    )
    port = (await serve.read_until("Listening on", timeout=60))["port"]
    await serve.read_until(f"All {workers} workers started", timeout=60)
    return serve, f"http://127.0.0.1:{port}"


async def _pid_of_answer(base: str) -> int:
    # A new connection each time: a keep-alive one would stay with the worker that accepted it.
    async with aiohttp.ClientSession() as session, session.get(f"{base}/api/pid/") as response:
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return int(body["pid"])


class _Held:
    """Slow requests held by the workers until the test creates the release file, each on a
    connection of its own (the session's others are busy); their answers by pid, and how many
    failed because their connection was lost. They are POSTs: aiohttp sends an idempotent
    request again on a new connection when its connection closes, which would hide the loss.
    """

    def __init__(
        self, session: aiohttp.ClientSession, base: str, serve: ServeProcess, group: TaskGroup
    ) -> None:
        self._session = session
        self._base = base
        self._serve = serve
        self._group = group
        self.holders: Counter[int] = Counter()
        self.replies: Counter[int] = Counter()
        self.lost = 0

    async def _request(self) -> None:
        try:
            async with self._session.post(f"{self._base}/api/pid/slow") as response:
                assert response.status == 200, await response.text()
                self.replies[int((await response.json())["pid"])] += 1
        except aiohttp.ClientConnectionError:
            self.lost += 1

    async def start(self, count: int) -> None:
        """Start ``count`` requests at once; return when every one of them is held."""
        for _ in range(count):
            self._group.start_soon(self._request)
        for _ in range(count):
            entry = await self._serve.read_until("slow request held", timeout=30)
            self.holders[int(entry["pid"])] += 1

    async def on_every_worker(self, workers: list[int], at_least: int) -> None:
        """Start requests one by one until each of ``workers`` holds ``at_least``: each new
        connection goes to either worker, so the count needed varies (40 are never needed).
        """
        for _ in range(40):
            if all(self.holders[pid] >= at_least for pid in workers):
                return
            await self.start(1)
        raise AssertionError(f"40 connections did not reach every worker: {self.holders}")


def _pids_of_a_burst(port: int, connections: int) -> Counter[int]:
    """Open ``connections`` at once, as wrk or a client's pool opens them, then ask on each
    which worker holds it.
    """
    clients = [socket.create_connection(("127.0.0.1", port), 30) for _ in range(connections)]
    try:
        pids: Counter[int] = Counter()
        for client in clients:
            http = HTTPConnection("127.0.0.1", port, timeout=30)
            http.sock = client
            http.request("GET", "/api/pid/")
            response = http.getresponse()
            assert response.status == 200
            pids[int(json.loads(response.read())["pid"])] += 1
        return pids
    finally:
        for client in clients:
            client.close()


async def test_connections_opened_together_are_spread_over_the_workers(tmp_path: Path) -> None:
    serve, base = await _start(tmp_path)
    try:
        workers = _children(serve.process.pid)
        assert len(workers) == 2
        pids = await anyio.to_thread.run_sync(_pids_of_a_burst, int(base.rsplit(":", 1)[1]), 40)
        # The kernel hashes each connection to one of the workers' sockets: fewer than 8 of 40
        # on one worker happens about once in 25,000 runs. With one accept queue for both, the
        # worker that woke first took all 40 (or 34 of them).
        assert set(pids) == set(workers)
        assert min(pids.values()) >= 8, pids
        serve.send_signal(signal.SIGTERM)
        assert await serve.wait(timeout=60) == 0
    finally:
        await serve.kill()
    assert not any(_alive(pid) for pid in workers)


async def test_a_dead_worker_is_replaced(tmp_path: Path) -> None:
    serve, base = await _start(tmp_path)
    try:
        first, second = _children(serve.process.pid)
        os.kill(first, signal.SIGKILL)
        died = await serve.read_until("Worker ", timeout=30)
        assert "exited with status -9; starting a new one" in died["message"]
        await serve.read_until(f"Worker {died['worker']} started again", timeout=60)
        workers = _children(serve.process.pid)
        assert len(workers) == 2
        assert second in workers
        assert first not in workers
        # New connections reach the replacement and the survivor, and nothing else answers:
        # each goes to either, so 40 of them all going to one happens once in 10^12 runs.
        (replacement,) = set(workers) - {second}
        assert {await _pid_of_answer(base) for _ in range(40)} == {second, replacement}
        serve.send_signal(signal.SIGTERM)
        assert await serve.wait(timeout=60) == 0
    finally:
        await serve.kill()


async def test_a_dead_worker_loses_only_its_own_requests(tmp_path: Path) -> None:
    serve, base = await _start(tmp_path)
    try:
        victim, survivor = _children(serve.process.pid)
        async with aiohttp.ClientSession() as session, anyio.create_task_group() as group:
            held = _Held(session, base, serve, group)
            await held.on_every_worker([victim, survivor], at_least=1)
            os.kill(victim, signal.SIGKILL)
            died = await serve.read_until("Worker ", timeout=30)
            assert "exited with status -9" in died["message"]
            (tmp_path / "release").touch()
        assert held.replies == Counter({survivor: held.holders[survivor]})
        assert held.lost == held.holders[victim]
        # A worker stopped while it starts exits with 143, which the supervisor reports.
        await serve.read_until(f"Worker {died['worker']} started again", timeout=60)
        serve.send_signal(signal.SIGTERM)
        assert await serve.wait(timeout=60) == 0
    finally:
        await serve.kill()


async def test_sigterm_drains_the_requests_held_by_every_worker(tmp_path: Path) -> None:
    serve, base = await _start(tmp_path)
    try:
        workers = _children(serve.process.pid)
        async with aiohttp.ClientSession() as session, anyio.create_task_group() as group:
            held = _Held(session, base, serve, group)
            await held.on_every_worker(workers, at_least=2)
            serve.send_signal(signal.SIGTERM)
            # The supervisor's line comes first (it is written out before the workers are
            # signalled), so reading past it skips no worker's line.
            await serve.read_until("Received SIGTERM, stopping 2 workers", timeout=30)
            # Both workers are draining, not gone: nothing has been answered yet.
            for _ in workers:
                await serve.read_until("Received SIGTERM, shutting down", timeout=30)
            assert not held.replies
            (tmp_path / "release").touch()
        assert await serve.wait(timeout=60) == 0
    finally:
        await serve.kill()
    assert held.replies == held.holders
    assert held.lost == 0


async def test_a_worker_that_cannot_start_stops_them_all(tmp_path: Path) -> None:
    serve = await ServeProcess.start(
        tmp_path,
        ["--workers", "2", "--allow-per-process-state"],
        _setup(tmp_path, PID_FAIL_START="1"),
    )
    try:
        failure = await serve.read_until("Stopping every worker", timeout=60)
        assert "exited with status 1 before it started" in failure["message"]
        assert await serve.wait(timeout=60) == 1
    finally:
        await serve.kill()


async def test_per_process_state_is_refused_naming_the_keys(tmp_path: Path) -> None:
    (tmp_path / "app-config.yaml").write_text(textwrap.dedent(CONFIG))
    process = await anyio.run_process(
        [str(CLI), "serve", "--workers", "2"], cwd=tmp_path, check=False
    )
    assert process.returncode == 1
    error = process.stderr.decode()
    assert "Refusing to start 2 workers" in error
    assert "backend.database is not configured" in error
    assert "backend.cache.store is the in-memory cache" in error
    assert "Traceback" not in error


@pytest.mark.parametrize(("args", "config"), [(["--workers", "0"], ""), ([], "  workers: 0\n")])
async def test_an_invalid_worker_count_is_refused(
    tmp_path: Path, args: list[str], config: str
) -> None:
    (tmp_path / "app-config.yaml").write_text(textwrap.dedent(CONFIG) + config)
    process = await anyio.run_process([str(CLI), "serve", *args], cwd=tmp_path, check=False)
    assert process.returncode != 0
    error = process.stderr.decode()
    assert ("--workers" in error) if args else ("backend.workers" in error)
    assert "Traceback" not in error
