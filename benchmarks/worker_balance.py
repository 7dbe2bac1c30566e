"""How ``serve --workers N`` shares a load between its workers: connections, requests and CPU
seconds per worker, figures that stay meaningful on a busy machine (unlike requests per second).

It starts ``backstage-runtime serve --workers N`` with one plugin route that answers the pid of
the worker serving it (``GET /api/pid/``), then runs wrk (one thread) twice: with keep-alive
connections (``-c`` of them, opened at once, the way wrk and most clients' pools do) and with a
new connection per request (``Connection: close``). wrk's Lua script counts the answers by pid;
``ss`` counts the established connections each worker holds in the middle of the keep-alive run;
``/proc`` gives each worker's CPU seconds over the run. ``--pace`` makes each wrk connection wait
that many milliseconds between requests, so that the load leaves CPU for the servers. Run:

    python benchmarks/worker_balance.py [--workers 2] [--connections 50] [--duration 10]
        [--pace 0]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_overhead import free_port

PID_PLUGIN = """
import os
from quart import Blueprint
from backstage_runtime import core_services, create_backend_plugin

routes = Blueprint("pid", __name__)
BODY = {"pid": os.getpid()}


@routes.get("/")
async def pid():
    return BODY


def register(env):
    async def init(http):
        http.use(routes)
        http.add_auth_policy(path="/", allow="unauthenticated")

    env.register_init(deps={"http": core_services.http_router}, init=init)


pid_plugin = create_backend_plugin(plugin_id="pid", register=register)
"""

# Counts the answers by the pid in their body; ``delay`` paces each connection when asked.
COUNTER_LUA = """
local threads = {}
local pace = tonumber(os.getenv("WORKER_BALANCE_PACE") or "0")
setup = function(thread) table.insert(threads, thread) end
init = function(args) counts = {} end
response = function(status, headers, body)
  local pid = string.match(body, '"pid":(%d+)') or "other"
  counts[pid] = (counts[pid] or 0) + 1
end
if pace > 0 then
  delay = function() return pace end
end
-- done runs in the main Lua state: each thread's counts are fetched from it.
done = function(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for pid, count in pairs(thread:get("counts")) do
      io.write(string.format("PID %s %d\\n", pid, count))
    end
  end
end
"""

ROUTE = "/api/pid/"


@dataclass
class Run:
    """One wrk run: requests per pid, CPU seconds per pid, connections per pid."""

    requests: dict[int, int] = field(default_factory=dict)
    cpu: dict[int, float] = field(default_factory=dict)
    connections: dict[int, int] = field(default_factory=dict)
    wrk_cpu: float = 0.0
    supervisor_cpu: float = 0.0
    errors: str = ""


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return sorted(int(child) for child in text.split())


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    # utime and stime are the 14th and 15th fields of stat(5); the split starts at the 3rd.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _connections_by_pid(port: int) -> dict[int, int]:
    output = subprocess.run(
        ["ss", "-Htnp", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    counts: dict[int, int] = {}
    for pid in re.findall(r"pid=(\d+)", output):
        counts[int(pid)] = counts.get(int(pid), 0) + 1
    return counts


def _wait_ready(port: int, process: subprocess.Popen[bytes], workers: int) -> list[int]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited with status {process.returncode}")
        children = _children(process.pid)
        if len(children) == workers:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{ROUTE}", timeout=1):
                    pass
            except OSError:
                pass
            else:
                # Every worker answers before the measurement: a worker still starting would
                # look like one that was given nothing.
                seen = _answering_pids(port, workers)
                if len(seen) == workers:
                    return children
        time.sleep(0.1)  # polling a server that is still starting
    raise RuntimeError("the workers did not all answer within 120 s")


def _answering_pids(port: int, workers: int) -> set[int]:
    seen: set[int] = set()
    for _ in range(20 * workers):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{ROUTE}", timeout=5) as reply:
            seen.add(int(re.findall(rb"\d+", reply.read())[0]))
        if len(seen) == workers:
            break
    return seen


def _wrk(url: str, args: argparse.Namespace, script: Path, extra: list[str]) -> tuple[str, float]:
    # The children reaped meanwhile: wrk, and the sampler's one ss (a few milliseconds).
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{args.connections}",
            f"-d{args.duration}s",
            "-s",
            str(script),
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "WORKER_BALANCE_PACE": str(args.pace)},
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return output, cpu


def measure(
    port: int,
    serve_pid: int,
    workers: list[int],
    args: argparse.Namespace,
    script: Path,
    extra: list[str],
) -> Run:
    """One wrk run against the workers, with its figures per worker."""
    run = Run()
    cpu_before = {pid: _cpu_seconds(pid) for pid in workers}
    supervisor_before = _cpu_seconds(serve_pid)
    sampled: dict[int, int] = {}

    def sample() -> None:
        # Halfway through, when every keep-alive connection is open and busy.
        time.sleep(args.duration / 2)
        sampled.update(_connections_by_pid(port))

    sampler = threading.Thread(target=sample)
    sampler.start()
    output, run.wrk_cpu = _wrk(f"http://127.0.0.1:{port}{ROUTE}", args, script, extra)
    sampler.join()
    run.cpu = {pid: _cpu_seconds(pid) - cpu_before[pid] for pid in workers}
    run.supervisor_cpu = _cpu_seconds(serve_pid) - supervisor_before
    run.connections = {pid: sampled.get(pid, 0) for pid in workers}
    for pid, count in re.findall(r"^PID (\S+) (\d+)$", output, re.MULTILINE):
        run.requests[int(pid) if pid.isdigit() else -1] = int(count)
    errors = re.search(r"Socket errors: (.*)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    run.errors = "; ".join(
        part
        for part in (errors and errors.group(1), non_2xx and f"non-2xx {non_2xx.group(1)}")
        if part
    )
    return run


def report(title: str, run: Run, workers: list[int], keep_alive: bool) -> None:
    """Print one run's table."""
    total = sum(run.requests.values()) or 1
    print(f"\n{title}")
    header = f"  {'worker':>8}  {'requests':>9}  {'share':>6}  {'CPU s':>6}  {'CPU s/1k req':>12}"
    if keep_alive:
        header += f"  {'connections':>11}"
    print(header)
    for index, pid in enumerate(workers, 1):
        requests = run.requests.get(pid, 0)
        per_1k = run.cpu[pid] / requests * 1000 if requests else float("nan")
        line = (
            f"  {index:>8}  {requests:>9}  {requests / total:>6.0%}  {run.cpu[pid]:>6.2f}"
            f"  {per_1k:>12.2f}"
        )
        if keep_alive:
            line += f"  {run.connections[pid]:>11}"
        print(line)
    print(
        f"  total {total} requests; supervisor {run.supervisor_cpu:.2f} CPU s, "
        f"wrk {run.wrk_cpu:.2f} CPU s" + (f"; errors: {run.errors}" if run.errors else "")
    )


def main() -> None:
    """Parse the arguments, serve, load, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--pace", type=int, default=0, help="ms each connection waits")
    args = parser.parse_args()
    if shutil.which("wrk") is None or shutil.which("ss") is None:
        sys.exit("wrk and ss are needed (Debian: apt-get install wrk iproute2)")
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        site = workdir / "site"
        site.mkdir()
        (site / "pid_plugin.py").write_text(PID_PLUGIN)
        dist_info = site / "pid_plugin-1.0.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: pid-plugin\nVersion: 1.0\n"
        )
        (dist_info / "entry_points.txt").write_text(
            "[backstage_runtime.features]\npid = pid_plugin:pid_plugin\n"
        )
        script = workdir / "counter.lua"
        script.write_text(COUNTER_LUA)
        port = free_port()
        cli = Path(sys.executable).with_name("backstage-runtime")
        process = subprocess.Popen(
            [
                str(cli),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--allow-per-process-state",
            ],
            cwd=workdir,
            env={**os.environ, "PYTHONPATH": str(site), "LOG_FORMAT": "json"},
            stdout=subprocess.DEVNULL,
        )
        try:
            workers = _wait_ready(port, process, args.workers)
            print(
                f"serve --workers {args.workers}; wrk -t1 -c{args.connections} -d{args.duration}s"
                + (f", each connection paced {args.pace} ms" if args.pace else "")
            )
            keep_alive = measure(port, process.pid, workers, args, script, [])
            report("keep-alive connections", keep_alive, workers, keep_alive=True)
            closing = measure(port, process.pid, workers, args, script, ["-H", "Connection: close"])
            report("a new connection per request", closing, workers, keep_alive=False)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
