"""Memory of a served backend under large JSON bodies: RSS before and after concurrent posts.

Starts ``backstage-runtime serve`` (the one next to this Python, or ``--cli``) with a plugin whose
route reads its JSON body, posts ``--concurrency`` bodies of ``--megabytes`` MB at once, and
prints the server's resident memory at rest, at its peak during the posts, and after them, with
the statuses the posts got. ``--json-limit`` sets ``backend.bodyLimit.json`` (omit it for the
default). Run:

    python benchmarks/body_memory.py [--concurrency 8] [--megabytes 10] [--cli PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import textwrap
from collections import Counter
from pathlib import Path

import aiohttp
import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import _support.serve as serve_support
from _support.serve import CLI, ServeProcess, install_fake_distribution

PLUGIN = """
from quart import Blueprint, request

from backstage_runtime import core_services, create_backend_plugin


def register(env):
    async def init(http):
        routes = Blueprint("sink", __name__)

        @routes.post("/json")
        async def take():
            body = await request.get_json()
            return {"items": len(body)}

        http.use(routes)
        http.add_auth_policy(path="/", allow="unauthenticated")

    env.register_init(deps={"http": core_services.http_router}, init=init)


sink_plugin = create_backend_plugin(plugin_id="sink", register=register)
"""


def rss_mb(pid: int) -> float:
    """The resident set size of ``pid`` in MB, from ``/proc``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


async def measure(args: argparse.Namespace) -> dict[str, object]:
    """Serve, post, and return the figures."""
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        site = root / "site"
        install_fake_distribution(site, "sink_plugin", PLUGIN, "sink = sink_plugin:sink_plugin")
        limit = f"\n  bodyLimit: {{json: {args.json_limit}}}" if args.json_limit else ""
        (root / "app-config.yaml").write_text(
            textwrap.dedent(
                """
                backend:
                  baseUrl: http://localhost:7007
                  listen: {host: 127.0.0.1, port: 0}"""
            )
            + limit
            + "\n"
        )
        env = {"PYTHONPATH": str(site)}
        # ServeProcess starts the CLI its module names: point it at the one to measure.
        serve_support.CLI = Path(args.cli) if args.cli else CLI
        serve = await ServeProcess.start(root, env=env)
        try:
            port = (await serve.read_until("Listening on"))["port"]
            await serve.read_until("Backend started")
            pid = serve.process.pid
            url = f"http://127.0.0.1:{port}/api/sink/json"
            item = b'"' + b"x" * 98 + b'"'
            count = args.megabytes * 1024 * 1024 // (len(item) + 1)
            body = b"[" + b",".join([item] * count) + b"]"
            async with aiohttp.ClientSession() as session:
                async with session.post(
                    url, data=b"[]", headers={"Content-Type": "application/json"}
                ):
                    pass
                at_rest = rss_mb(pid)
                statuses: Counter[int] = Counter()
                peak = at_rest

                async def post() -> None:
                    async with session.post(
                        url, data=body, headers={"Content-Type": "application/json"}
                    ) as response:
                        await response.read()
                        statuses[response.status] += 1

                async def watch() -> None:
                    nonlocal peak
                    while True:
                        peak = max(peak, rss_mb(pid))
                        await anyio.sleep(0.02)

                async with anyio.create_task_group() as group:
                    group.start_soon(watch)
                    async with anyio.create_task_group() as posts:
                        for _ in range(args.concurrency):
                            posts.start_soon(post)
                    group.cancel_scope.cancel()
                await anyio.sleep(1)
                after = rss_mb(pid)
        finally:
            await serve.kill()
    return {
        "cli": str(args.cli or CLI),
        "bodies": f"{args.concurrency} x {len(body) / 1e6:.1f} MB",
        "rss_at_rest_mb": round(at_rest, 1),
        "rss_peak_mb": round(peak, 1),
        "rss_after_mb": round(after, 1),
        "statuses": dict(statuses),
    }


def main() -> None:
    """Parse the arguments, measure, print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--megabytes", type=int, default=10)
    parser.add_argument("--json-limit", default=None)
    parser.add_argument("--cli", default=os.environ.get("BACKSTAGE_RUNTIME_CLI"))
    args = parser.parse_args()
    print(json.dumps(anyio.run(measure, args), indent=2))


if __name__ == "__main__":
    main()
