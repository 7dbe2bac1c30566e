"""SIGTERM while requests are in flight: none is lost, and the process exits 0."""

from __future__ import annotations

import signal
import textwrap
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from _support.polling import eventually
from _support.serve import ServeProcess, install_fake_distribution

pytestmark = pytest.mark.anyio

REQUESTS = 50

SLOW_PLUGIN = """
import os
from pathlib import Path

import anyio
from quart import Blueprint

from backstage_runtime import core_services, create_backend_plugin

RELEASE = Path(os.environ["SLOW_RELEASE_FILE"])
EXPECTED = int(os.environ["SLOW_EXPECTED"])


def register(env):
    state = {"in_flight": 0, "completed": 0}

    async def init(http, logger, lifecycle):
        routes = Blueprint("slow", __name__)

        @routes.get("/work/<int:number>")
        async def work(number):
            state["in_flight"] += 1
            if state["in_flight"] == EXPECTED:
                logger.info("all requests in flight")
            # A slow request: it finishes when the test says so.
            while not RELEASE.exists():
                await anyio.sleep(0.01)
            state["in_flight"] -= 1
            state["completed"] += 1
            return {"number": number}

        http.use(routes)
        http.add_auth_policy(path="/work", allow="unauthenticated")
        lifecycle.add_shutdown_hook(
            lambda: logger.info("slow plugin shut down", {"completed": state["completed"]})
        )

    env.register_init(
        deps={
            "http": core_services.http_router,
            "logger": core_services.logger,
            "lifecycle": core_services.lifecycle,
        },
        init=init,
    )


slow_plugin = create_backend_plugin(plugin_id="slow", register=register)
"""


async def test_sigterm_during_slow_requests_loses_none_and_exits_zero(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install_fake_distribution(site, "slow_plugin", SLOW_PLUGIN, "slow = slow_plugin:slow_plugin")
    release = tmp_path / "release"
    (tmp_path / "app-config.yaml").write_text(
        textwrap.dedent(
            """
            backend:
              baseUrl: http://localhost:7007
              listen: {host: 127.0.0.1, port: 0}
              lifecycle:
                serverShutdownDelay: {milliseconds: 1500}
            """
        )
    )
    serve = await ServeProcess.start(
        tmp_path,
        env={
            "PYTHONPATH": str(site),
            "SLOW_RELEASE_FILE": str(release),
            "SLOW_EXPECTED": str(REQUESTS),
        },
    )
    try:
        port = (await serve.read_until("Listening on"))["port"]
        base = f"http://127.0.0.1:{port}"
        await serve.read_until("Backend started")
        replies: list[tuple[int, Any]] = []

        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=REQUESTS * 2)
        ) as session:

            async def call(number: int) -> None:
                async with session.get(f"{base}/api/slow/work/{number}") as response:
                    replies.append((response.status, await response.json()))

            async with anyio.create_task_group() as group:
                for number in range(REQUESTS):
                    group.start_soon(call, number)
                await serve.read_until("all requests in flight")
                serve.send_signal(signal.SIGTERM)
                await serve.read_until("Received SIGTERM")

                # During the grace period the server still answers, and says it is going away.
                async with (
                    aiohttp.ClientSession() as probe,
                    probe.get(f"{base}/.backstage/health/v1/readiness") as response,
                ):
                    readiness = (response.status, await response.json())

                async def refused() -> bool:
                    try:
                        async with (
                            aiohttp.ClientSession() as probe,
                            probe.get(f"{base}/.backstage/health/v1/liveness"),
                        ):
                            return False
                    except aiohttp.ClientConnectorError:
                        return True

                # After the grace, new connections are refused while the 50 are still running.
                await eventually(refused, timeout=15)
                assert replies == []
                release.touch()

        status = await serve.wait()
    finally:
        await serve.kill()

    assert readiness == (503, {"message": "Backend is shutting down", "status": "error"})
    assert sorted(replies, key=lambda r: r[1]["number"]) == [
        (200, {"number": number}) for number in range(REQUESTS)
    ]
    assert status == 0
    shut_down = [line for line in serve.lines if line["message"] == "slow plugin shut down"]
    # The plugin's shutdown hooks ran only after every request had completed.
    assert [line["completed"] for line in shut_down] == [REQUESTS]
