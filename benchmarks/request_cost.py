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
5% more, tracing at most 10%). Those targets are defined on ``http_overhead.py``'s served
requests, whose cost includes Hypercorn's (HTTP parsing, the connection, the response write):
``--served`` measures that, under callgrind, with ``http_overhead.py``'s own server (route
``/api/hello/hello``) answering one keep-alive connection's requests one after the other.
Log lines go to this process's stdout as in production: redirect it. Run:

    python benchmarks/request_cost.py [--requests 300] [--callgrind [--served]] [--uvloop]
        [--metrics | --tracing] > /dev/null
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import http.client
import os
import pstats
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import http_overhead
from http_overhead import free_port, telemetry_features
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


def _served_instructions(requests: int, kind: str) -> int:
    """Instructions per request of ``http_overhead.py``'s server of ``kind`` under callgrind:
    the totals after N and after 0 requests (the same start, readiness check, warm-up and
    stop), the difference over N."""
    totals = []
    with tempfile.TemporaryDirectory() as folder:
        for count in (0, requests):
            port = free_port()
            out = Path(folder) / f"cg.{count}"
            command = [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                http_overhead.__file__,
                "--serve",
                "runtime" if kind == "plain" else kind,
                "--port",
                str(port),
            ]
            env = {**os.environ, "PYTHONHASHSEED": "0"}
            with (Path(folder) / f"stderr.{count}").open("w+") as stderr:
                server = subprocess.Popen(
                    command, stdout=subprocess.DEVNULL, stderr=stderr, env=env
                )
                try:
                    _wait_until_serving(port, server)
                    _get_sequentially(port, WARM_UP + count)
                finally:
                    _stop(server)
                stderr.seek(0)
                report = stderr.read()
            found = re.search(r"Collected : (\d+)", report)
            assert found, report[-2000:]
            totals.append(int(found.group(1)))
    return (totals[1] - totals[0]) // requests


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, as an operator stops it; a stop under valgrind has once hung in the event loop,
    so after two minutes SIGTERM (callgrind still writes its totals then)."""
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=120)
    except subprocess.TimeoutExpired:
        server.terminate()
        server.wait(timeout=120)


def _wait_until_serving(port: int, server: subprocess.Popen[bytes]) -> None:
    """Poll until one request is answered (a refused connection costs the server nothing)."""
    deadline = time.monotonic() + 600  # a start under valgrind takes a minute or more
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server under valgrind exited with {server.returncode}")
        try:
            _get_sequentially(port, 1)
            return
        except OSError:
            time.sleep(0.5)  # polling a server that is still starting
    raise RuntimeError("the server under valgrind did not answer within 600 s")


def _get_sequentially(port: int, count: int) -> None:
    """``count`` GETs of the route on one keep-alive connection, each answered before the next."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        for _ in range(count):
            connection.request("GET", http_overhead.ROUTE)
            reply = connection.getresponse()
            reply.read()
            assert reply.status == 200, reply.status
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument(
        "--served", action="store_true", help="with --callgrind: through Hypercorn on loopback"
    )
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
    if args.callgrind and args.served:
        report.extend(_compare_served(args.requests))
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
        lines.append(
            f"{kind:9}{calls:8.0f}{tasks:7.1f}{instructions:14,}{ratio:8.3f}{_verdict(kind, ratio)}"
        )
    return lines


def _compare_served(requests: int) -> list[str]:
    """Instructions per served request of every kind (Hypercorn included), ratios to plain."""
    lines = [
        "",
        f"served by Hypercorn ({http_overhead.ROUTE}, one keep-alive connection)",
        f"{'':9}{'instructions':>14}{'ratio':>8}",
    ]
    plain = 0
    for kind in KINDS:
        instructions = _served_instructions(requests, kind)
        if kind == "plain":
            plain = instructions
        lines.append(
            f"{kind:9}{instructions:14,}{instructions / plain:8.3f}{_verdict(kind, instructions / plain)}"
        )
    return lines


def _verdict(kind: str, ratio: float) -> str:
    if kind not in TARGETS:
        return ""
    met = "meets" if ratio <= TARGETS[kind] else "MISSES"
    return f"  ({met} the {TARGETS[kind]:.2f} target)"


if __name__ == "__main__":
    main()
