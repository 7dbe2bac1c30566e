"""Cold start of a process: modules loaded, peak RSS and import time, for three backends.

Each scenario runs in a fresh interpreter (``python -X importtime``):

- ``import``: ``from backstage_runtime import create_backend`` and nothing else;
- ``empty``: an empty backend started (serving on an ephemeral port) and stopped;
- ``contrib``: the same with the contrib ``todo`` plugin and its ``static`` module;
- ``contrib-local``: the same with ``events.useEventBus: never``: the default (``auto``) polls the
  events backend with a plugin token, whose signing key the plugin's database keeps, so only
  this one shows what the plugins themselves load.

The module count and the RSS do not depend on the machine's load; the import time (the sum of
``-X importtime``'s self times) does, so compare it only within one run. The last column lists
the heavy packages each scenario loaded.

``--serve`` measures instead what ``compare_node.py`` calls "start": ``backstage-runtime serve``
with one ``hello`` plugin (a distribution on ``PYTHONPATH``, found through its entry point), from
process launch until ``GET /.backstage/health/v1/readiness`` answers 200, polled every
``--poll-ms``. It prints the median of ``--runs`` launches, split at the log lines "Listening on"
and "Plugin initialization complete", the server's CPU time until then, and the modules it
imported (``PYTHONPROFILEIMPORTTIME``, one more launch). ``--callgrind`` adds the instructions
until the first readiness 200 (one launch under valgrind: the server says it has started
through the supervisor's ready pipe, is probed once, then its counters are dumped), which the
machine's load does not change. Our package is byte-compiled first, as ``pip install`` does
(``--source`` skips that, to see what a checkout run with ``PYTHONDONTWRITEBYTECODE`` pays).
Run:

    python benchmarks/cold_start.py
    python benchmarks/cold_start.py --serve [--runs 20] [--poll-ms 10] [--callgrind] [--source]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare_node import write_hello_site

ROOT = Path(__file__).resolve().parents[1]
CONTRIB = [ROOT / "contrib" / "todo-backend", ROOT / "contrib" / "todo-backend-module-static"]

HEAVY = (
    "quart",
    "hypercorn",
    "aiohttp",
    "sqlalchemy",
    "alembic",
    "aiocache",
    "redis",
    "opentelemetry",
    "joserfc",
    "cryptography",
    "croniter",
    "jsonschema",
)

_REPORT = """
import json, resource, sys
tops = {name.split(".")[0] for name in sys.modules}
print(json.dumps({
    "modules": len(sys.modules),
    "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "heavy": sorted(tops & set(HEAVY)),
}))
"""

_START = """
import asyncio
from backstage_runtime import create_backend
async def main():
    backend = create_backend(features=FEATURES, config={"backend": {"listen": {"port": 0}}, **EXTRA})
    async with backend:
        pass
asyncio.run(main())
"""

_CONTRIB = (
    "sys.path[:0] = " + repr([str(path) for path in CONTRIB]) + "\n"
    "from backstage_plugin_todo_backend import todo_plugin\n"
    "from backstage_plugin_todo_backend_module_static import static_todos_module\n"
    "FEATURES = [todo_plugin, static_todos_module]\n"
)

SCENARIOS = {
    "import": "from backstage_runtime import create_backend\ncreate_backend\n",
    "empty": "FEATURES = []\nEXTRA = {}\n" + _START,
    "contrib": _CONTRIB + "EXTRA = {}\n" + _START,
    "contrib-local": _CONTRIB + "EXTRA = {'events': {'useEventBus': 'never'}}\n" + _START,
}


def run(code: str) -> dict[str, object]:
    script = "import sys\nHEAVY = " + repr(HEAVY) + "\n" + code + _REPORT
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    micros = 0
    for line in completed.stderr.splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            micros += int(line.removeprefix("import time:").split("|")[0])
    result: dict[str, object] = json.loads(completed.stdout.splitlines()[-1])
    result["import_ms"] = micros / 1000
    return result


READINESS = "/.backstage/health/v1/readiness"
_READY_FD_ENV = "BACKSTAGE_RUNTIME_READY_FD"  # what `serve --workers` tells each worker


@dataclass
class ServeStart:
    """One launch of ``serve``: seconds from launch to each milestone, and CPU until ready."""

    listening_s: float
    plugins_s: float
    ready_s: float
    cpu_s: float
    probes: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _launch(
    site: Path,
    workdir: Path,
    port: int,
    *,
    stdout: IO[bytes] | int,
    stderr: IO[bytes] | int,
    env: Mapping[str, str] | None = None,
    prefix: Sequence[str] = (),
    pass_fds: Sequence[int] = (),
) -> subprocess.Popen[bytes]:
    """``backstage-runtime serve`` on ``port``, finding the plugin in ``site``, as a user runs it
    (the console script beside this interpreter), behind ``prefix`` (valgrind) if given.
    """
    cli = Path(sys.executable).with_name("backstage-runtime")
    command = [*prefix, str(cli), "serve", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(
        command,
        cwd=workdir,
        env={
            **os.environ,
            "PYTHONPATH": str(site),
            "LOG_FORMAT": "json",
            "PYTHONHASHSEED": "0",
            **(env or {}),
        },
        stdout=stdout,
        stderr=stderr,
        pass_fds=pass_fds,
    )


def _probe(port: int) -> int | None:
    """The readiness endpoint's status, None while nothing listens."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{READINESS}", timeout=30) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _logged_at(log: Path, message: str) -> float:
    """The wall-clock time of the first JSON log line whose message starts with ``message``."""
    for line in log.read_text().splitlines():
        record = json.loads(line)
        if str(record.get("message", "")).startswith(message):
            return datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00")).timestamp()
    raise RuntimeError(f"no log line {message!r} in {log}")


def measure_serve(site: Path, workdir: Path, poll_s: float) -> ServeStart:
    """Launch ``serve`` and poll readiness until it answers 200."""
    port = _free_port()
    log = workdir / "serve.log"
    with log.open("wb") as out:
        launched_wall, launched = time.time(), time.monotonic()
        process = _launch(site, workdir, port, stdout=out, stderr=subprocess.DEVNULL)
        try:
            probes = 0
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"serve exited with status {process.returncode}")
                probes += 1
                if _probe(port) == 200:
                    ready = time.monotonic() - launched
                    break
                time.sleep(poll_s)  # polling a server that is still starting, as a probe does
            cpu = _cpu_seconds(process.pid)
        finally:
            _stop(process)
    return ServeStart(
        listening_s=_logged_at(log, "Listening on") - launched_wall,
        plugins_s=_logged_at(log, "Plugin initialization complete") - launched_wall,
        ready_s=ready,
        cpu_s=cpu,
        probes=probes,
    )


def _wait_started(process: subprocess.Popen[bytes], ready_read: int, timeout: float) -> None:
    """Block until the server writes its ready byte (after its start, before serving on)."""
    began = time.monotonic()
    while not select.select([ready_read], [], [], 1)[0]:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited with status {process.returncode}")
        if time.monotonic() - began > timeout:
            raise RuntimeError(f"serve did not start within {timeout:.0f} s")
    os.read(ready_read, 1)


def serve_modules(site: Path, workdir: Path) -> int:
    """The modules ``serve`` imported by the time it had started (``PYTHONPROFILEIMPORTTIME``)."""
    ready_read, ready_write = os.pipe()
    errors = workdir / "importtime.log"
    port = _free_port()
    with errors.open("wb") as err:
        process = _launch(
            site,
            workdir,
            port,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={"PYTHONPROFILEIMPORTTIME": "1", _READY_FD_ENV: str(ready_write)},
            pass_fds=(ready_write,),
        )
        os.close(ready_write)
        try:
            _wait_started(process, ready_read, 300)
            assert _probe(port) == 200
            text = errors.read_text()
        finally:
            os.close(ready_read)
            _stop(process)
    lines = text.splitlines()
    return sum(1 for line in lines if line.startswith("import time:") and "self [us]" not in line)


def serve_instructions(site: Path, workdir: Path) -> int:
    """Instructions (valgrind callgrind) from launch to the first readiness 200."""
    ready_read, ready_write = os.pipe()
    out = workdir / "callgrind.out"
    port = _free_port()
    process = _launch(
        site,
        workdir,
        port,
        prefix=("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={_READY_FD_ENV: str(ready_write)},
        pass_fds=(ready_write,),
    )
    os.close(ready_write)
    try:
        _wait_started(process, ready_read, 3600)
        assert _probe(port) == 200
        subprocess.run(
            ["callgrind_control", "--dump=ready", str(process.pid)], check=True, capture_output=True
        )
    finally:
        os.close(ready_read)
        _stop(process)
    found = re.search(r"^summary: (\d+)$", (workdir / "callgrind.out.1").read_text(), re.M)
    assert found, "callgrind wrote no summary"
    return int(found.group(1))


def main_serve(args: argparse.Namespace) -> None:
    if not args.source:
        compileall.compile_dir(ROOT / "backstage_runtime", quiet=1)
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        site = write_hello_site(workdir / "site")
        poll_s = args.poll_ms / 1000
        measure_serve(site, workdir, poll_s)  # warm-up: the page cache, not counted
        runs = [measure_serve(site, workdir, poll_s) for _ in range(args.runs)]
        modules = serve_modules(site, workdir)
        instructions = serve_instructions(site, workdir) if args.callgrind else None

    def ms(values: list[float]) -> str:
        shown = [value * 1000 for value in values]
        return f"{statistics.median(shown):7.0f} ms  (min {min(shown):.0f}, max {max(shown):.0f})"

    bytecode = "from source (no bytecode)" if args.source else "byte-compiled"
    print(
        f"backstage-runtime serve, one hello plugin, {args.runs} launches, readiness polled every "
        f"{args.poll_ms:g} ms; our package {bytecode}; load average {os.getloadavg()[0]:.2f} "
        f"on {os.cpu_count()} cores"
    )
    print(f"launch -> readiness 200             {ms([r.ready_s for r in runs])}")
    print(f"  launch -> 'Listening on'          {ms([r.listening_s for r in runs])}")
    plugins = [r.plugins_s - r.listening_s for r in runs]
    print(f"  -> 'Plugin initialization complete' {ms(plugins)}")
    print(f"  -> readiness 200                  {ms([r.ready_s - r.plugins_s for r in runs])}")
    print(f"server CPU until readiness          {ms([r.cpu_s for r in runs])}")
    print(f"readiness probes per launch         {statistics.median(r.probes for r in runs):7.0f}")
    print(f"modules imported when started       {modules:7d}")
    if instructions is not None:
        print(f"instructions to readiness 200       {instructions:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="launch -> readiness of `serve`")
    parser.add_argument("--runs", type=int, default=20, help="launches of `serve` to time")
    parser.add_argument("--poll-ms", type=float, default=10, help="readiness poll interval")
    parser.add_argument("--callgrind", action="store_true", help="instructions (valgrind)")
    parser.add_argument("--source", action="store_true", help="do not byte-compile first")
    args = parser.parse_args()
    if args.serve:
        main_serve(args)
        return
    print(f"{'scenario':14}{'modules':>9}{'peak RSS':>12}{'imports':>11}  heavy packages loaded")
    for name, code in SCENARIOS.items():
        result = run(code)
        print(
            f"{name:14}{result['modules']:>9}{int(str(result['rss_kib'])) / 1024:>9.1f} MiB"
            f"{result['import_ms']:>8.0f} ms  {', '.join(result['heavy'])}"  # type: ignore[arg-type]
        )


if __name__ == "__main__":
    main()
