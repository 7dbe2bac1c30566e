"""``serve --workers N``: N backends on one socket, supervised, drained together on SIGTERM."""

from __future__ import annotations

import os
import signal
import textwrap
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from _support.serve import CLI, ServeProcess, install_fake_distribution

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

        @routes.get("/slow")
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


async def test_every_worker_serves_the_one_socket(tmp_path: Path) -> None:
    serve, base = await _start(tmp_path)
    try:
        workers = _children(serve.process.pid)
        assert len(workers) == 2
        # A stopped worker accepts nothing, so every connection goes to the other one: each
        # worker in turn answers on the same port.
        for frozen, serving in (workers, workers[::-1]):
            os.kill(frozen, signal.SIGSTOP)
            try:
                assert {await _pid_of_answer(base) for _ in range(3)} == {serving}
            finally:
                os.kill(frozen, signal.SIGCONT)
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
        (replacement,) = set(workers) - {second}
        os.kill(second, signal.SIGSTOP)
        try:
            assert await _pid_of_answer(base) == replacement
        finally:
            os.kill(second, signal.SIGCONT)
        serve.send_signal(signal.SIGTERM)
        assert await serve.wait(timeout=60) == 0
    finally:
        await serve.kill()


async def test_sigterm_drains_the_requests_held_by_every_worker(tmp_path: Path) -> None:
    serve, base = await _start(tmp_path)
    replies: list[int] = []
    try:
        workers = _children(serve.process.pid)
        async with aiohttp.ClientSession() as session:

            async def slow() -> None:
                async with session.get(f"{base}/api/pid/slow") as response:
                    assert response.status == 200, await response.text()
                    replies.append(int((await response.json())["pid"]))

            async with anyio.create_task_group() as group:
                # Two held requests on each worker, steered by freezing the other one.
                for frozen, _serving in (workers, workers[::-1]):
                    os.kill(frozen, signal.SIGSTOP)
                    try:
                        for _ in range(2):
                            group.start_soon(slow)
                            await serve.read_until("slow request held", timeout=30)
                    finally:
                        os.kill(frozen, signal.SIGCONT)
                serve.send_signal(signal.SIGTERM)
                # The supervisor's line comes first (it is written out before the workers are
                # signalled), so reading past it skips no worker's line.
                await serve.read_until("Received SIGTERM, stopping 2 workers", timeout=30)
                # Both workers are draining, not gone: nothing has been answered yet.
                for _ in workers:
                    await serve.read_until("Received SIGTERM, shutting down", timeout=30)
                assert replies == []
                (tmp_path / "release").touch()
        assert await serve.wait(timeout=60) == 0
    finally:
        await serve.kill()
    assert sorted(replies) == sorted(workers * 2)


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
