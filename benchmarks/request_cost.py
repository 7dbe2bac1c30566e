"""What one GET of a plugin route costs through the whole stack, in counts the machine's load does
not change.

The route (``GET /api/hello/ping``, open to anonymous callers, answering ``{"pong":true}``) is
served by ``backend.asgi_app`` in-process: the root pipeline (request log, in-flight tracking,
compression, security headers, ETag, errors, health), the plugin's router (lifecycle gate,
credentials barrier, body limit) and the Quart app. After a warm-up of 20 requests it prints,
per request, the Python function calls (cProfile) and the asyncio tasks created; with
``--callgrind`` it runs itself twice under ``valgrind --tool=callgrind`` (0 and N requests after
the same warm-up) and prints the instructions per request (their difference divided by N).

``--metrics`` / ``--tracing`` configure the backend as ``http_overhead.py``'s runs of those
names (Prometheus reader with its scrape endpoint listening, not scraped; an SDK tracer with a
batch processor whose exporter drops the spans). With ``--callgrind`` the instructions are
measured for all three configurations (``plain``, ``metrics``, ``tracing``), each in fresh
processes, and printed with the ratios to ``plain`` against issue 17's targets (metrics at most
5% more, tracing at most 10%).
Log lines go to this process's stdout as in production: redirect it. Run:

    python benchmarks/request_cost.py [--requests 300] [--callgrind] [--uvloop]
        [--metrics | --tracing] > /dev/null
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from http_overhead import telemetry_features
from quart import Blueprint

from backstage_runtime import core_services, create_backend, create_backend_plugin

WARM_UP = 20
KINDS = ("plain", "metrics", "tracing")
#: Issue 17: the most instructions per request a kind may cost, as a ratio to ``plain``.
TARGETS = {"metrics": 1.05, "tracing": 1.10}

routes = Blueprint("hello", __name__)


@routes.get("/ping")
async def ping() -> dict[str, bool]:
    return {"pong": True}


def _register(env: Any) -> None:
    async def init(http: Any) -> None:
        http.use(routes)
        http.add_auth_policy(path="/ping", allow="unauthenticated")

    env.register_init(deps={"http": core_services.http_router}, init=init)


hello_plugin = create_backend_plugin(plugin_id="hello", register=_register)


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "method": "GET",
        "scheme": "http",
        "path": "/api/hello/ping",
        "raw_path": b"/api/hello/ping",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"localhost:7007"),
            (b"accept", b"*/*"),
            (b"accept-encoding", b"gzip, deflate, br"),
        ],
        "http_version": "1.1",
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 7007),
    }


def _receive() -> Any:
    """The request (no body), then nothing until the request is over (no disconnect)."""
    sent = False
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await never.wait()
        return {"type": "http.disconnect"}  # pragma: no cover

    return receive


class _CountingTasks:
    """A task factory that counts the tasks the loop creates."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        self.count += 1
        return asyncio.Task(coro, loop=loop, **kwargs)


async def measure(requests: int, profile: bool, kind: str = "plain") -> dict[str, float]:
    extra_features, extra_config = telemetry_features(kind)
    backend = create_backend(
        features=[hello_plugin, *extra_features],
        serve_http=False,
        config={"backend": {"baseUrl": "http://localhost:7007", **extra_config}},
    )
    async with backend:
        app = backend.asgi_app

        async def one() -> None:
            sent: list[dict[str, Any]] = []

            async def send(message: dict[str, Any]) -> None:
                sent.append(message)

            await app(_scope(), _receive(), send)
            assert sent[0]["status"] == 200, sent

        for _ in range(WARM_UP):
            await one()
        tasks = _CountingTasks()
        loop = asyncio.get_running_loop()
        previous = loop.get_task_factory()
        loop.set_task_factory(tasks)
        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            profiler.enable()
        for _ in range(requests):
            await one()
        if profiler is not None:
            profiler.disable()
        loop.set_task_factory(previous)
    calls = pstats.Stats(profiler).total_calls if profiler is not None else 0  # type: ignore[attr-defined]
    return {"calls": calls / max(requests, 1), "tasks": tasks.count / max(requests, 1)}


def _run(requests: int, use_uvloop: bool, profile: bool, kind: str) -> dict[str, float]:
    if use_uvloop:
        import uvloop

        return uvloop.run(measure(requests, profile, kind))
    return asyncio.run(measure(requests, profile, kind))


def _kind_switches(kind: str) -> list[str]:
    return [] if kind == "plain" else [f"--{kind}"]


def _instructions(requests: int, use_uvloop: bool, kind: str = "plain") -> int:
    """Instructions per request: callgrind totals of N and 0 requests, the difference over N."""
    totals = []
    with tempfile.TemporaryDirectory() as folder:
        for count in (0, requests):
            command = [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={Path(folder) / f'cg.{count}'}",
                sys.executable,
                __file__,
                "--requests",
                str(count),
                "--no-profile",
                *(["--uvloop"] if use_uvloop else []),
                *_kind_switches(kind),
            ]
            env = {**os.environ, "PYTHONHASHSEED": "0"}
            done = subprocess.run(
                command, capture_output=True, text=True, env=env, check=True, timeout=3600
            )
            found = re.search(r"Collected : (\d+)", done.stderr)
            assert found, done.stderr[-2000:]
            totals.append(int(found.group(1)))
    return (totals[1] - totals[0]) // requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument("--uvloop", action="store_true")
    switches = parser.add_mutually_exclusive_group()
    switches.add_argument(
        "--metrics", action="store_true", help="backend.metrics.prometheus on (as http_overhead)"
    )
    switches.add_argument(
        "--tracing", action="store_true", help="spans to a dropping exporter (as http_overhead)"
    )
    parser.add_argument("--no-profile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--calls-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    kind = "metrics" if args.metrics else "tracing" if args.tracing else "plain"
    result = _run(args.requests, args.uvloop, profile=not args.no_profile, kind=kind)
    if args.no_profile:
        return  # a run under callgrind: the instruction count is what matters
    if args.calls_only:
        # A child of --callgrind: its figures for the parent, on stderr (stdout has log lines).
        print(f"calls {result['calls']} tasks {result['tasks']}", file=sys.stderr)
        return
    loop = "uvloop" if args.uvloop else "asyncio"
    report = [
        f"GET /api/hello/ping in-process on {loop}, {args.requests} requests after {WARM_UP}"
        f" ({kind})",
        f"function calls per request   {result['calls']:.0f}",
        f"tasks created per request    {result['tasks']:.1f}",
    ]
    if args.callgrind:
        report.extend(_compare_kinds(args.requests, args.uvloop, kind, result))
    print("\n".join(report), file=sys.stderr)


def _calls(requests: int, use_uvloop: bool, kind: str) -> tuple[float, float]:
    """Calls and tasks per request of ``kind``, in a process of its own (a backend with the SDK
    loaded would leave it imported for the next one)."""
    command = [
        sys.executable,
        __file__,
        "--requests",
        str(requests),
        "--calls-only",
        *(["--uvloop"] if use_uvloop else []),
        *_kind_switches(kind),
    ]
    done = subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True
    )
    found = re.search(r"calls ([\d.]+) tasks ([\d.]+)", done.stderr)
    assert found, done.stderr[-2000:]
    return float(found.group(1)), float(found.group(2))


def _compare_kinds(
    requests: int, use_uvloop: bool, measured: str, result: dict[str, float]
) -> list[str]:
    """The table of every kind: calls, tasks and instructions per request, ratios to plain."""
    lines = ["", f"{'':9}{'calls':>8}{'tasks':>7}{'instructions':>14}{'ratio':>8}"]
    plain = 0
    for kind in KINDS:
        if kind == measured:
            calls, tasks = result["calls"], result["tasks"]
        else:
            calls, tasks = _calls(requests, use_uvloop, kind)
        instructions = _instructions(requests, use_uvloop, kind)
        if kind == "plain":
            plain = instructions
        ratio = instructions / plain
        verdict = ""
        if kind in TARGETS:
            met = "meets" if ratio <= TARGETS[kind] else "MISSES"
            verdict = f"  ({met} the {TARGETS[kind]:.2f} target)"
        lines.append(f"{kind:9}{calls:8.0f}{tasks:7.1f}{instructions:14,}{ratio:8.3f}{verdict}")
    return lines


if __name__ == "__main__":
    main()
