"""HTTP overhead of the runtime stack against bare Quart + Hypercorn, measured in one run.

Both servers serve the same JSON hello route (``GET /api/hello/hello`` -> ``{"hello":"world"}``)
from one process each, with the same Hypercorn settings, on loopback:

- ``bare``: a Quart app with the route's blueprint at ``/api/hello``, served by Hypercorn;
- ``runtime``: ``create_backend()`` with a plugin ``hello`` using that blueprint, i.e. request
  logging (one line per request, as Node Backstage does; written to /dev/null here), helmet
  headers, CORS (configured, so it does work on every request), the lifecycle gate, the error
  handler and the plugin mount.

- ``metrics``: ``runtime`` with ``backend.metrics.prometheus`` enabled (the SDK records the HTTP
  server instruments of every request; the scrape endpoint listens but is not scraped);
- ``tracing``: ``runtime`` with tracing on: a server span per request, through the SDK's batch
  processor to an exporter that drops the spans (the cost of recording, not of a network).

The load generator is ``wrk`` (Debian package ``wrk``) on loopback; rounds alternate between the
servers and the medians are compared. With two or more CPUs the server runs on the last one and
wrk on the others (``--no-pin`` lets the scheduler place both): a server sharing its core with
the load generator pays for the other's cache and context switches, by a share that differs
between the kinds and moves by several percent from run to run. Target: the runtime keeps at least 0.85 of bare Quart's
requests per second; ``metrics`` and ``tracing`` are reported as ratios to ``runtime``. Run:

    python benchmarks/http_overhead.py [--duration 10] [--connections 50] [--rounds 3]
        [--kinds bare,runtime,metrics,tracing] [--no-pin]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROUTE = "/api/hello/hello"
TARGET_RATIO = 0.85


def hello_blueprint() -> Any:
    from quart import Blueprint

    blueprint = Blueprint("hello", __name__)

    @blueprint.get("/hello")
    async def hello() -> Any:
        return {"hello": "world"}

    return blueprint


def serve_bare(port: int) -> None:
    import asyncio

    from hypercorn.asyncio import serve
    from hypercorn.config import Config
    from quart import Quart

    app = Quart("bare")
    app.register_blueprint(hello_blueprint(), url_prefix="/api/hello")
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.include_server_header = False
    config.keep_alive_timeout = 5
    asyncio.run(serve(app, config))  # type: ignore[arg-type]


KINDS = ("bare", "runtime", "metrics", "tracing")


def telemetry_features(kind: str) -> tuple[list[Any], dict[str, Any]]:
    """The extra features and ``backend`` config of a ``metrics`` or ``tracing`` run."""
    if kind == "metrics":
        return [], {"metrics": {"prometheus": {"enabled": True, "host": "127.0.0.1", "port": 0}}}
    if kind == "tracing":
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            SpanExporter,
            SpanExportResult,
        )

        from backstage_runtime.defaults.telemetry import telemetry_service_factory

        class DroppingExporter(SpanExporter):
            def export(self, spans: Any) -> SpanExportResult:
                return SpanExportResult.SUCCESS

        processor = BatchSpanProcessor(DroppingExporter())
        return [telemetry_service_factory(span_processors=[processor])], {}
    return [], {}


def serve_runtime(port: int, kind: str = "runtime") -> None:
    import anyio

    from backstage_runtime import core_services, create_backend, create_backend_plugin
    from backstage_runtime.cli._commands import freeze_startup_objects

    def register(env: Any) -> None:
        def init(http: Any) -> None:
            http.use(hello_blueprint())
            # As the Node comparison's hello route: public, so no credentials are checked.
            http.add_auth_policy(path="/hello", allow="unauthenticated")

        env.register_init(deps={"http": core_services.http_router}, init=init)

    # Production's JSON lines, written to /dev/null by the parent.
    os.environ["LOG_FORMAT"] = "json"
    extra_features, extra_config = telemetry_features(kind)
    backend = create_backend(
        features=[create_backend_plugin(plugin_id="hello", register=register), *extra_features],
        config={
            "backend": {
                "baseUrl": f"http://127.0.0.1:{port}",
                "listen": {"host": "127.0.0.1", "port": port},
                "cors": {"origin": ["http://localhost:*"], "credentials": True},
                **extra_config,
            }
        },
    )

    async def main() -> None:
        async with backend:
            freeze_startup_objects()  # as `backstage-runtime serve` does
            await anyio.sleep_forever()

    anyio.run(main)


@dataclass
class Result:
    """One wrk run; ``cpu_us_per_request`` is the server process's CPU time per request, steadier
    than req/s on a machine shared with other work.
    """

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0
    cpu_us_per_request: float = 0.0


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    value, unit = match.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_wrk(
    url: str,
    duration: int,
    connections: int,
    extra: Sequence[str] = (),
    cpus: set[int] | None = None,
) -> Result:
    """Run wrk (one thread) against ``url``; ``extra`` are more wrk arguments (headers), ``cpus``
    the CPUs it may run on (any, by default)."""
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", *extra, url],
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=None if cpus is None else lambda: os.sched_setaffinity(0, cpus),
    ).stdout
    try:
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
        p50 = _milliseconds(re.search(r"^\s*50%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
        p99 = _milliseconds(re.search(r"^\s*99%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    except (AttributeError, ValueError) as error:
        raise RuntimeError(f"could not read wrk's output ({error}):\n{output}") from error
    total = re.search(r"(\d+) requests in", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    count = int(errors.group(1)) if errors else 0
    if socket_errors:
        count += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Result(rps, p50, p99, count, int(total.group(1)) if total else 0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Placement:
    """The CPUs of the server and of wrk; None: wherever the scheduler puts them."""

    server: set[int] | None = None
    load: set[int] | None = None

    @classmethod
    def pinned(cls) -> Placement:
        """The server on the last usable CPU, wrk on the others (unpinned with only one)."""
        usable = sorted(os.sched_getaffinity(0))
        if len(usable) < 2:
            return cls()
        return cls(server={usable[-1]}, load=set(usable[:-1]))


def start_server(
    kind: str, port: int, placement: Placement = Placement()
) -> subprocess.Popen[bytes]:
    cpus = placement.server
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Set before exec, so that every thread the server starts inherits it.
        preexec_fn=None if cpus is None else lambda: os.sched_setaffinity(0, cpus),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{ROUTE}", timeout=1) as reply:
                if reply.status == 200:
                    return process
        except OSError:
            time.sleep(0.05)  # polling a server that is still starting
    process.kill()
    raise RuntimeError(f"the {kind} server did not answer within 30 s")


def measure(
    kind: str, duration: int, connections: int, placement: Placement = Placement()
) -> Result:
    port = free_port()
    server = start_server(kind, port, placement)
    try:
        url = f"http://127.0.0.1:{port}{ROUTE}"
        # Warm-up: imports, caches, JIT-free but lazy paths.
        run_wrk(url, 2, connections, cpus=placement.load)
        cpu_before = process_cpu_seconds(server.pid)
        result = run_wrk(url, duration, connections, cpus=placement.load)
        cpu = process_cpu_seconds(server.pid) - cpu_before
        result.cpu_us_per_request = cpu / max(result.requests, 1) * 1e6
        return result
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--kinds", default=",".join(KINDS), help=f"comma-separated subset of {','.join(KINDS)}"
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="let the scheduler place the server and wrk (default: separate CPUs)",
    )
    parser.add_argument("--serve", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "bare":
        serve_bare(args.port)
        return
    if args.serve is not None:
        serve_runtime(args.port, args.serve)
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    kinds = tuple(kind for kind in args.kinds.split(",") if kind)
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        sys.exit(f"unknown --kinds {', '.join(unknown)}; choose from {', '.join(KINDS)}")

    placement = Placement() if args.no_pin else Placement.pinned()
    if placement.server is None:
        print("server and wrk unpinned")
    else:
        print(
            f"server on CPU {sorted(placement.server)}, wrk on CPUs {sorted(placement.load or ())}"
        )
    results: dict[str, list[Result]] = {kind: [] for kind in kinds}
    for round_number in range(args.rounds):
        order = kinds if round_number % 2 == 0 else tuple(reversed(kinds))
        for kind in order:
            result = measure(kind, args.duration, args.connections, placement)
            results[kind].append(result)
            print(
                f"round {round_number + 1} {kind:8} {result.requests_per_second:9.0f} req/s  "
                f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  "
                f"cpu {result.cpu_us_per_request:5.0f} us/req  errors {result.errors}",
                flush=True,
            )

    def median(kind: str, field: str) -> float:
        return statistics.median(getattr(r, field) for r in results[kind])

    print()
    print(f"wrk -t1 -c{args.connections} -d{args.duration}s, {args.rounds} rounds, medians")
    print(f"{'':10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'cpu us/req':>12}")
    for kind in kinds:
        print(
            f"{kind:10}{median(kind, 'requests_per_second'):10.0f}"
            f"{median(kind, 'p50_ms'):10.2f}{median(kind, 'p99_ms'):10.2f}"
            f"{median(kind, 'cpu_us_per_request'):12.0f}"
        )
    if "bare" in kinds and "runtime" in kinds:
        ratio = median("runtime", "requests_per_second") / median("bare", "requests_per_second")
        verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
        print(f"throughput ratio runtime/bare: {ratio:.3f} ({verdict} the {TARGET_RATIO} target)")
        cpu_ratio = median("bare", "cpu_us_per_request") / median("runtime", "cpu_us_per_request")
        print(f"CPU-bound capacity ratio (bare CPU per request / runtime's): {cpu_ratio:.3f}")
    for kind in ("metrics", "tracing"):
        if kind in kinds and "runtime" in kinds:
            ratio = median(kind, "requests_per_second") / median("runtime", "requests_per_second")
            cpu = median("runtime", "cpu_us_per_request") / median(kind, "cpu_us_per_request")
            print(
                f"{kind} on / off (same stack): throughput {ratio:.3f}, "
                f"CPU-bound capacity {cpu:.3f}"
            )
    print(f"python {sys.version.split()[0]}, pid {os.getpid()}")


if __name__ == "__main__":
    main()
