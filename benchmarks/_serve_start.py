"""``cold_start.py --serve``: launch -> readiness 200 of ``backstage-runtime serve``, beside Node.

What ``compare_node.py`` calls "start", without wrk: ``backstage-runtime serve`` with one
``hello`` plugin (a distribution on ``PYTHONPATH``, found through its entry point), from process
launch until ``GET /.backstage/health/v1/readiness`` answers 200, polled every ``--poll-ms``.
With ``NODE_PEER_DIR`` (see compare_node.py) the Node backend is launched too, alternating with
ours, with the same readiness poll. ``--config`` gives ours an app-config file (Node's own
``$NODE_PEER_DIR/app-config.yaml`` makes the two read the same settings).

It prints the median of ``--runs`` launches each, ours split at its log lines "Listening on"
and "Plugin initialization complete", the server's CPU time until readiness, and the modules
ours imported (``PYTHONPROFILEIMPORTTIME``, one more launch). ``--callgrind`` adds the
instructions until the first readiness 200 (one launch under valgrind: the server says it has
started through the supervisor's ready pipe, is probed once, then its counters are dumped),
which the machine's load does not change. Our package is byte-compiled first, as ``pip install``
does (``--source`` skips that, to see what a checkout run with ``PYTHONDONTWRITEBYTECODE`` pays).

On a shared machine the wall-clock figures mostly measure the other load. As root, running the
benchmark in a session of its own whose scheduling group has the highest priority (Linux's
autogroups: ``nice`` alone does not reach across sessions) comes close to an idle machine:

    setsid sh -c 'echo -20 > /proc/self/autogroup; exec python benchmarks/cold_start.py --serve'
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

from compare_node import write_hello_site

ROOT = Path(__file__).resolve().parents[1]
READINESS = "/.backstage/health/v1/readiness"
_READY_FD_ENV = "BACKSTAGE_RUNTIME_READY_FD"  # what `serve --workers` tells each worker


@dataclass
class Launch:
    """One launch: seconds from launch to readiness 200 (and, for ours, to two log lines)."""

    ready_s: float
    cpu_s: float
    probes: int
    listening_s: float | None = None
    plugins_s: float | None = None


@dataclass
class Setup:
    """What every launch shares."""

    workdir: Path
    site: Path
    config: Path | None
    poll_s: float
    node_dir: Path | None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _launch_ours(
    setup: Setup,
    port: int,
    *,
    stdout: IO[bytes] | int,
    stderr: IO[bytes] | int,
    env: Mapping[str, str] | None = None,
    prefix: Sequence[str] = (),
    pass_fds: Sequence[int] = (),
) -> subprocess.Popen[bytes]:
    """``backstage-runtime serve`` on ``port`` as a user runs it (the console script beside this
    interpreter), behind ``prefix`` (valgrind) if given.
    """
    cli = Path(sys.executable).with_name("backstage-runtime")
    command = [*prefix, str(cli), "serve", "--host", "127.0.0.1", "--port", str(port)]
    if setup.config is not None:
        command += ["--config", str(setup.config)]
    return subprocess.Popen(
        command,
        cwd=setup.workdir,
        env={
            **os.environ,
            "PYTHONPATH": str(setup.site),
            "LOG_FORMAT": "json",
            "PYTHONHASHSEED": "0",
            **(env or {}),
        },
        stdout=stdout,
        stderr=stderr,
        pass_fds=pass_fds,
    )


def _launch_node(setup: Setup, port: int, stdout: IO[bytes]) -> subprocess.Popen[bytes]:
    assert setup.node_dir is not None
    return subprocess.Popen(
        ["node", "index.js", "--config", "app-config.yaml"],
        cwd=setup.node_dir,
        env={**os.environ, "APP_CONFIG_backend_listen_port": str(port)},
        stdout=stdout,
        stderr=subprocess.DEVNULL,
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


def measure(setup: Setup, kind: str) -> Launch:
    """Launch ``kind`` (``ours`` or ``node``) and poll readiness until it answers 200."""
    port = _free_port()
    log = setup.workdir / f"{kind}.log"
    with log.open("wb") as out:
        launched_wall, launched = time.time(), time.monotonic()
        if kind == "ours":
            process = _launch_ours(setup, port, stdout=out, stderr=subprocess.DEVNULL)
        else:
            process = _launch_node(setup, port, out)
        try:
            probes = 0
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{kind} exited with status {process.returncode}")
                probes += 1
                if _probe(port) == 200:
                    ready = time.monotonic() - launched
                    break
                time.sleep(setup.poll_s)  # polling a server that is still starting, as a probe does
            cpu = _cpu_seconds(process.pid)
        finally:
            _stop(process)
    launch = Launch(ready_s=ready, cpu_s=cpu, probes=probes)
    if kind == "ours":
        launch.listening_s = _logged_at(log, "Listening on") - launched_wall
        launch.plugins_s = _logged_at(log, "Plugin initialization complete") - launched_wall
    return launch


def _wait_started(process: subprocess.Popen[bytes], ready_read: int, timeout: float) -> None:
    """Block until the server writes its ready byte (after its start, before serving on)."""
    began = time.monotonic()
    while not select.select([ready_read], [], [], 1)[0]:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited with status {process.returncode}")
        if time.monotonic() - began > timeout:
            raise RuntimeError(f"serve did not start within {timeout:.0f} s")
    os.read(ready_read, 1)


def modules_imported(setup: Setup) -> int:
    """The modules ``serve`` imported by the time it had started (``PYTHONPROFILEIMPORTTIME``)."""
    ready_read, ready_write = os.pipe()
    errors = setup.workdir / "importtime.log"
    port = _free_port()
    with errors.open("wb") as err:
        process = _launch_ours(
            setup,
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


def instructions_to_readiness(setup: Setup) -> int:
    """Instructions (valgrind callgrind) from launch to the first readiness 200."""
    ready_read, ready_write = os.pipe()
    out = setup.workdir / "callgrind.out"
    port = _free_port()
    process = _launch_ours(
        setup,
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
    found = re.search(r"^summary: (\d+)$", (setup.workdir / "callgrind.out.1").read_text(), re.M)
    assert found, "callgrind wrote no summary"
    return int(found.group(1))


def _ms(values: Sequence[float]) -> str:
    shown = [value * 1000 for value in values]
    return f"{statistics.median(shown):7.0f} ms  (min {min(shown):.0f}, max {max(shown):.0f})"


def main_serve(args: argparse.Namespace) -> None:
    """Run the launches and print the figures (see the module docstring)."""
    if not args.source:
        compileall.compile_dir(ROOT / "backstage_runtime", quiet=1)
    node_dir = Path(os.environ["NODE_PEER_DIR"]) if os.environ.get("NODE_PEER_DIR") else None
    config = Path(args.config).resolve() if args.config else None
    kinds = ["ours", "node"] if node_dir is not None else ["ours"]
    launches: dict[str, list[Launch]] = {kind: [] for kind in kinds}
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        setup = Setup(
            workdir, write_hello_site(workdir / "site"), config, args.poll_ms / 1000, node_dir
        )
        for kind in kinds:
            measure(setup, kind)  # warm-up: the page cache, not counted
        for index in range(args.runs):
            for kind in kinds if index % 2 == 0 else kinds[::-1]:
                launches[kind].append(measure(setup, kind))
        modules = modules_imported(setup)
        instructions = instructions_to_readiness(setup) if args.callgrind else None

    bytecode = "from source (no bytecode)" if args.source else "byte-compiled"
    print(
        f"backstage-runtime serve, one hello plugin, config {config or 'none'}, our package "
        f"{bytecode}; {args.runs} launches each, readiness polled every {args.poll_ms:g} ms; "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    ours = launches["ours"]
    listening = [run.listening_s or 0.0 for run in ours]
    plugins = [(run.plugins_s or 0.0) - (run.listening_s or 0.0) for run in ours]
    after = [run.ready_s - (run.plugins_s or 0.0) for run in ours]
    print(f"ours: launch -> readiness 200       {_ms([run.ready_s for run in ours])}")
    print(f"  launch -> 'Listening on'          {_ms(listening)}")
    print(f"  -> 'Plugin initialization complete' {_ms(plugins)}")
    print(f"  -> readiness 200                  {_ms(after)}")
    print(f"  server CPU until readiness        {_ms([run.cpu_s for run in ours])}")
    print(f"  readiness probes per launch       {statistics.median(r.probes for r in ours):7.0f}")
    print(f"  modules imported when started     {modules:7d}")
    if instructions is not None:
        print(f"  instructions to readiness 200     {instructions:,}")
    if node_dir is not None:
        node = launches["node"]
        print(f"node: launch -> readiness 200       {_ms([run.ready_s for run in node])}")
        print(f"  server CPU until readiness        {_ms([run.cpu_s for run in node])}")
        ratio = statistics.median(r.ready_s for r in ours) / statistics.median(
            r.ready_s for r in node
        )
        print(f"ours/node start (medians)           {ratio:7.2f}")
    print(f"python {sys.version.split()[0]}")
