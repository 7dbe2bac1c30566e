"""Eight concurrent 10 MB JSON bodies leave a served backend's memory where it was."""

from __future__ import annotations

import textwrap
from pathlib import Path

import aiohttp
import anyio
import pytest
from _support.serve import ServeProcess, install_fake_distribution

pytestmark = pytest.mark.anyio

SINK_PLUGIN = """
from quart import Blueprint, request

from backstage_runtime import core_services, create_backend_plugin


def register(env):
    async def init(http):
        routes = Blueprint("sink", __name__)

        @routes.post("/json")
        async def take():
            return {"items": len(await request.get_json())}

        http.use(routes)
        http.add_auth_policy(path="/", allow="unauthenticated")

    env.register_init(deps={"http": core_services.http_router}, init=init)


sink_plugin = create_backend_plugin(plugin_id="sink", register=register)
"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


async def test_large_json_bodies_are_refused_without_being_held(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install_fake_distribution(site, "sink_plugin", SINK_PLUGIN, "sink = sink_plugin:sink_plugin")
    (tmp_path / "app-config.yaml").write_text(
        textwrap.dedent(
            """
            backend:
              baseUrl: http://localhost:7007
              listen: {host: 127.0.0.1, port: 0}
            """
        )
    )
    serve = await ServeProcess.start(tmp_path, env={"PYTHONPATH": str(site)})
    try:
        port = (await serve.read_until("Listening on"))["port"]
        await serve.read_until("Backend started")
        url = f"http://127.0.0.1:{port}/api/sink/json"
        headers = {"Content-Type": "application/json"}
        body = b"[" + b",".join([b'"' + b"x" * 98 + b'"'] * 100_000) + b"]"  # ~10 MB
        statuses: list[int] = []
        async with aiohttp.ClientSession() as session:
            async with session.post(url, data=b"[1]", headers=headers) as warm_up:
                assert warm_up.status == 200
            at_rest = rss_mb(serve.process.pid)

            async def post() -> None:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    statuses.append(response.status)

            async with anyio.create_task_group() as group:
                for _ in range(8):
                    group.start_soon(post)
        after = rss_mb(serve.process.pid)
    finally:
        await serve.kill()

    assert statuses == [413] * 8
    # Holding the bodies took ~+215 MB that stayed allocated; refusing them while reading
    # takes a few MB. The margin absorbs allocator noise.
    assert after - at_rest < 60, (at_rest, after)
