"""SIGTERM with a request that never finishes: the stop fits inside the configured bounds, and
the request is answered 503 ``ServiceUnavailableError`` when it is cut.
"""

from __future__ import annotations

import json
import signal
import textwrap
import time
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from _support.serve import ServeProcess, install_fake_distribution

pytestmark = pytest.mark.anyio

#: Python start-up and teardown around the bounded steps, generously (two shared cores).
SLACK = 2.0

STUCK_PLUGIN = """
import os

import anyio
from quart import Blueprint

from backstage_runtime import core_services, create_backend_plugin


def register(env):
    async def init(http, logger, lifecycle):
        routes = Blueprint("stuck", __name__)

        @routes.get("/forever")
        async def forever():
            logger.info("stuck request started")
            await anyio.sleep_forever()

        http.use(routes)
        http.add_auth_policy(path="/forever", allow="unauthenticated")
        if os.environ.get("STUCK_HOOK"):
            lifecycle.add_shutdown_hook(anyio.sleep_forever)

    env.register_init(
        deps={
            "http": core_services.http_router,
            "logger": core_services.logger,
            "lifecycle": core_services.lifecycle,
        },
        init=init,
    )


stuck_plugin = create_backend_plugin(plugin_id="stuck", register=register)
"""


async def _stop_with_a_stuck_request(
    tmp_path: Path, hook_timeout: float, *, hung_hook: bool
) -> tuple[float, int, Any, ServeProcess]:
    """Start ``serve``, hold one request that never returns, SIGTERM: the seconds from the
    signal to the exit, the exit status, the held request's reply and the process.
    """
    site = tmp_path / "site"
    install_fake_distribution(
        site, "stuck_plugin", STUCK_PLUGIN, "stuck = stuck_plugin:stuck_plugin"
    )
    (tmp_path / "app-config.yaml").write_text(
        textwrap.dedent(
            f"""
            backend:
              baseUrl: http://localhost:7007
              listen: {{host: 127.0.0.1, port: 0}}
              lifecycle:
                shutdownHookTimeout: {{milliseconds: {int(hook_timeout * 1000)}}}
            """
        )
    )
    env = {"PYTHONPATH": str(site), **({"STUCK_HOOK": "1"} if hung_hook else {})}
    serve = await ServeProcess.start(tmp_path, env=env)
    try:
        port = (await serve.read_until("Listening on"))["port"]
        await serve.read_until("Backend started")
        reply: list[Any] = []
        async with aiohttp.ClientSession() as session, anyio.create_task_group() as group:

            async def call() -> None:
                async with session.get(f"http://127.0.0.1:{port}/api/stuck/forever") as response:
                    reply.append((response.status, await response.read()))

            group.start_soon(call)
            await serve.read_until("stuck request started")
            signalled = time.monotonic()
            serve.send_signal(signal.SIGTERM)
            status = await serve.wait(timeout=4 * hook_timeout + 10)
            elapsed = time.monotonic() - signalled
    finally:
        await serve.kill()
    return elapsed, status, reply[0] if reply else None, serve


async def test_a_stuck_request_is_waited_for_once_then_answered_503(tmp_path: Path) -> None:
    bound = 3.0
    elapsed, status, reply, serve = await _stop_with_a_stuck_request(
        tmp_path, bound, hung_hook=False
    )

    # The drain waits the bound once; closing the server does not wait it a second time.
    assert bound <= elapsed < bound + SLACK, elapsed
    assert status == 0
    assert reply is not None
    code, raw = reply
    assert code == 503, raw
    body = json.loads(raw)
    assert body["error"]["name"] == "ServiceUnavailableError"
    assert "shutting down" in body["error"]["message"]
    assert body["response"] == {"statusCode": 503}
    warnings = [line["message"] for line in serve.lines if line["level"] == "warn"]
    assert any("1 request(s) still running after 3s" in message for message in warnings)


async def test_a_stuck_request_and_a_hung_hook_each_take_one_bound(tmp_path: Path) -> None:
    bound = 2.0
    elapsed, status, reply, serve = await _stop_with_a_stuck_request(
        tmp_path, bound, hung_hook=True
    )

    # The drain (one bound), then the plugin's hung shutdown hook (one bound); nothing else waits.
    assert 2 * bound <= elapsed < 2 * bound + SLACK, elapsed
    assert status == 0
    assert reply is not None
    assert reply[0] == 503
    timed_out = [line for line in serve.lines if "hook timed out after 2s" in line["message"]]
    assert [line.get("plugin") for line in timed_out] == ["stuck"]
