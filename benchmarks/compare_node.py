"""Ours beside a real Node Backstage backend, bare Quart and a raw ASGI app, in one run.

Every server answers ``GET /api/hello/hello`` -> ``{"hello":"world"}`` on loopback and logs each
request (ours and Node's to /dev/null). Servers:

- ``raw``: a plain ASGI callable on Hypercorn (the ceiling of the server we use);
- ``bare``: Quart + Hypercorn with the route's blueprint;
- ``ours``: ``backstage-runtime serve`` with a ``hello`` plugin installed as a distribution;
- ``ours-N``: the same with ``--workers N`` (one process per core by default);
- ``ours+uvloop``, ``ours-N+uvloop``: with ``--uvloop``, the same two on uvloop
  (``backend.eventLoop: uvloop``, from ``APP_CONFIG_backend_eventLoop``);
- ``node``: when ``NODE_PEER_DIR`` names a directory with an installed
  ``@backstage/backend-defaults`` backend started by ``node index.js --config app-config.yaml``
  and a ``hello`` plugin (see shared/reference/node-backend-observed.md); skipped otherwise.

Rounds interleave the servers; medians are printed with req/s, p50/p99 latency, server CPU per
1,000 requests (the whole process tree), launch -> readiness 200 time, and RSS idle and after load,
then the ratios to Node (or to bare Quart without it). Run:

    python benchmarks/compare_node.py [--duration 10] [--connections 50] [--rounds 3] [--workers N]
        [--uvloop]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_overhead import ROUTE, free_port, run_wrk

RAW_APP = """
import asyncio, sys
from hypercorn.asyncio import serve
from hypercorn.config import Config

BODY = b'{"hello":"world"}'
LOG = open("/dev/null", "w")

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})
    LOG.write(f'{scope["method"]} {scope["path"]} 200\\n')

config = Config()
config.bind = [f"127.0.0.1:{sys.argv[1]}"]
config.accesslog = None
config.include_server_header = False
asyncio.run(serve(app, config))
"""

BARE_APP = """
import asyncio, logging, sys
from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart

app = Quart("bare")
log = logging.getLogger("bare")
log.addHandler(logging.FileHandler("/dev/null"))
log.setLevel(logging.INFO)

@app.get("/api/hello/hello")
async def hello():
    return {"hello": "world"}

@app.after_request
async def access(response):
    log.info("GET /api/hello/hello %s", response.status_code)
    return response

config = Config()
config.bind = [f"127.0.0.1:{sys.argv[1]}"]
config.accesslog = None
config.include_server_header = False
asyncio.run(serve(app, config))
"""

HELLO_PLUGIN = """
from quart import Blueprint

from backstage_runtime import core_services, create_backend_plugin


def register(env):
    def init(http):
        routes = Blueprint("hello", __name__)

        @routes.get("/hello")
        async def hello():
            return {"hello": "world"}

        http.use(routes)
        http.add_auth_policy(path="/hello", allow="unauthenticated")

    env.register_init(deps={"http": core_services.http_router}, init=init)


hello_plugin = create_backend_plugin(plugin_id="hello", register=register)
"""


def write_hello_site(site: Path) -> Path:
    """A folder for ``PYTHONPATH`` holding the ``hello`` plugin as an installed distribution
    (``hello-plugin``, advertising it in the ``backstage_runtime.features`` entry-point group).
    """
    site.mkdir()
    (site / "hello_plugin.py").write_text(HELLO_PLUGIN)
    dist_info = site / "hello_plugin-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: hello-plugin\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(
        "[backstage_runtime.features]\nhello = hello_plugin:hello_plugin\n"
    )
    return site


@dataclass
class Figures:
    """One server's round: throughput, latency, CPU per 1,000 requests, start time, memory."""

    rps: float
    p50_ms: float
    p99_ms: float
    cpu_s_per_1000: float
    start_s: float
    idle_rss_mb: float
    loaded_rss_mb: float
    errors: int


def _tree(pid: int) -> list[int]:
    pids = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        pids += _tree(int(child))
    return pids


def _tree_cpu_seconds(pid: int) -> float:
    total = 0.0
    for member in _tree(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _tree_rss_mb(pid: int) -> float:
    total = 0
    for member in _tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


class Servers:
    """How to launch each kind of server on a port."""

    def __init__(
        self, workdir: Path, workers: int, node_dir: Path | None, uvloop: bool = False
    ) -> None:
        self.workdir = workdir
        self.workers = workers
        self.uvloop = uvloop
        self.node_dir = node_dir
        (workdir / "raw.py").write_text(RAW_APP)
        (workdir / "bare.py").write_text(BARE_APP)
        self.site = write_hello_site(workdir / "site")

    def kinds(self) -> list[str]:
        kinds = ["raw", "bare", "ours", f"ours-{self.workers}"]
        if self.uvloop:
            kinds += ["ours+uvloop", f"ours-{self.workers}+uvloop"]
        return kinds + (["node"] if self.node_dir is not None else [])

    def launch(self, kind: str, port: int) -> subprocess.Popen[bytes]:
        env = {**os.environ}
        cwd = self.workdir
        if kind in ("raw", "bare"):
            command = [sys.executable, str(self.workdir / f"{kind}.py"), str(port)]
        elif kind.startswith("ours"):
            cli = Path(sys.executable).with_name("backstage-runtime")
            command = [str(cli), "serve", "--host", "127.0.0.1", "--port", str(port)]
            if kind.endswith("+uvloop"):
                env["APP_CONFIG_backend_eventLoop"] = "uvloop"
            if kind.removesuffix("+uvloop") != "ours":
                # The hello route keeps no state, so per-process stores split nothing here.
                command += ["--workers", str(self.workers), "--allow-per-process-state"]
            env |= {"PYTHONPATH": str(self.site), "LOG_FORMAT": "json"}
        else:
            assert self.node_dir is not None
            cwd = self.node_dir
            command = ["node", "index.js", "--config", "app-config.yaml"]
            env |= {"APP_CONFIG_backend_listen_port": str(port)}
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )


def _wait_ready(port: int, process: subprocess.Popen[bytes], kind: str) -> float:
    began = time.monotonic()
    url = f"http://127.0.0.1:{port}{ROUTE}"
    while time.monotonic() - began < 60:
        if process.poll() is not None:
            raise RuntimeError(f"the {kind} server exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:
                if reply.status == 200:
                    return time.monotonic() - began
        except OSError:
            time.sleep(0.01)  # polling a server that is still starting
    raise RuntimeError(f"the {kind} server did not answer within 60 s")


def measure(servers: Servers, kind: str, duration: int, connections: int) -> Figures:
    port = free_port()
    launched = time.monotonic()
    process = servers.launch(kind, port)
    try:
        _wait_ready(port, process, kind)
        start_s = time.monotonic() - launched
        time.sleep(1)  # let the start settle before reading idle memory (not a sync point)
        idle = _tree_rss_mb(process.pid)
        url = f"http://127.0.0.1:{port}{ROUTE}"
        run_wrk(url, 2, connections)  # warm-up
        cpu_before = _tree_cpu_seconds(process.pid)
        result = run_wrk(url, duration, connections)
        cpu = _tree_cpu_seconds(process.pid) - cpu_before
        return Figures(
            rps=result.requests_per_second,
            p50_ms=result.p50_ms,
            p99_ms=result.p99_ms,
            cpu_s_per_1000=cpu / max(result.requests, 1) * 1000,
            start_s=start_s,
            idle_rss_mb=idle,
            loaded_rss_mb=_tree_rss_mb(process.pid),
            errors=result.errors,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--uvloop", action="store_true", help="also run ours on uvloop")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    node_dir = Path(os.environ["NODE_PEER_DIR"]) if os.environ.get("NODE_PEER_DIR") else None
    if node_dir is None:
        print("NODE_PEER_DIR is not set: the Node peer is skipped, ratios are to bare Quart")
    elif shutil.which("node") is None:
        sys.exit("NODE_PEER_DIR is set but node is not on PATH")

    with tempfile.TemporaryDirectory() as directory:
        servers = Servers(Path(directory), args.workers, node_dir, uvloop=args.uvloop)
        kinds = servers.kinds()
        results: dict[str, list[Figures]] = {kind: [] for kind in kinds}
        for round_number in range(args.rounds):
            order = kinds if round_number % 2 == 0 else kinds[::-1]
            for kind in order:
                figures = measure(servers, kind, args.duration, args.connections)
                results[kind].append(figures)
                print(
                    f"round {round_number + 1} {kind:14} {figures.rps:8.0f} req/s  "
                    f"p50 {figures.p50_ms:6.2f} ms  p99 {figures.p99_ms:7.2f} ms  "
                    f"cpu {figures.cpu_s_per_1000:5.2f} s/1k  start {figures.start_s:5.2f} s  "
                    f"rss {figures.idle_rss_mb:5.0f}/{figures.loaded_rss_mb:5.0f} MB  "
                    f"errors {figures.errors}",
                    flush=True,
                )

    def median(kind: str, field: str) -> float:
        return statistics.median(getattr(figures, field) for figures in results[kind])

    print()
    print(f"wrk -t1 -c{args.connections} -d{args.duration}s, {args.rounds} rounds, medians")
    columns = (
        "rps",
        "p50_ms",
        "p99_ms",
        "cpu_s_per_1000",
        "start_s",
        "idle_rss_mb",
        "loaded_rss_mb",
    )
    print(f"{'':16}" + "".join(f"{name:>15}" for name in columns))
    for kind in kinds:
        print(f"{kind:16}" + "".join(f"{median(kind, name):15.2f}" for name in columns))
    base = "node" if "node" in kinds else "bare"
    print()
    for kind in kinds:
        if kind == base:
            continue
        print(
            f"{kind}/{base}: req/s {median(kind, 'rps') / median(base, 'rps'):.2f}, "
            f"CPU per request {median(kind, 'cpu_s_per_1000') / median(base, 'cpu_s_per_1000'):.2f}x, "
            f"start {median(kind, 'start_s') / median(base, 'start_s'):.2f}x, "
            f"idle RSS {median(kind, 'idle_rss_mb') / median(base, 'idle_rss_mb'):.2f}x"
        )
    if base == "node":
        # Issue 19's other yardstick: the same Python server without our stack.
        for kind in kinds:
            if kind.startswith("ours"):
                print(f"{kind}/bare: req/s {median(kind, 'rps') / median('bare', 'rps'):.2f}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
