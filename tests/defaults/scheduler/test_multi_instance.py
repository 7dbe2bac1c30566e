"""Three ``backstage-runtime serve`` processes sharing one PostgreSQL run a global task every
second: each interval runs exactly once, runs never overlap, and when the process running the
task is killed another one takes over once the lease has expired."""

from __future__ import annotations

import json
import os
import signal
import statistics
import sys
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import anyio
import pytest
from _support.polling import eventually
from _support.serve import install_fake_distribution
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

from backstage_runtime.testing import TestDatabases

pytestmark = pytest.mark.anyio

CLI = Path(sys.executable).with_name("backstage-runtime")
RUN_SECONDS = 0.4
TIMEOUT_SECONDS = 2.0

TICKER = f"""
import os
import time

import anyio

from backstage_runtime import core_services, create_backend_plugin
from backstage_runtime.defaults.scheduler import scheduler_service_factory


def register(env):
    async def init(scheduler, logger):
        async def tick(signal):
            logger.info("tick start", {{"at": time.time(), "pid": os.getpid()}})
            try:
                await anyio.sleep({RUN_SECONDS})
            finally:
                logger.info("tick end", {{"at": time.time(), "pid": os.getpid()}})

        await scheduler.schedule_task(
            id="tick", frequency={{"seconds": 1}}, timeout={{"seconds": {TIMEOUT_SECONDS}}}, fn=tick
        )

    env.register_init(
        deps={{"scheduler": core_services.scheduler, "logger": core_services.logger}}, init=init
    )


ticker = create_backend_plugin(plugin_id="ticker", register=register)
features = [scheduler_service_factory(janitor_interval=0.5), ticker]
"""


@dataclass
class Instance:
    """One serve process and every JSON log line it printed so far."""

    process: Process
    lines: list[dict[str, Any]] = field(default_factory=list)
    killed_at: float | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def said(self, message: str) -> bool:
        return any(line["message"] == message for line in self.lines)

    def ticks(self, message: str) -> list[float]:
        return [line["at"] for line in self.lines if line["message"] == message]

    async def pump(self) -> None:
        assert self.process.stdout is not None
        stream = BufferedByteReceiveStream(self.process.stdout)
        while True:
            try:
                raw = await stream.receive_until(b"\n", 1 << 20)
            except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError):
                return
            self.lines.append(json.loads(raw))


@dataclass(frozen=True)
class Run:
    start: float
    end: float
    pid: int


def runs_of(instances: list[Instance]) -> list[Run]:
    runs: list[Run] = []
    for instance in instances:
        starts, ends = instance.ticks("tick start"), instance.ticks("tick end")
        for number, start in enumerate(starts):
            # No end line: killed mid-run, or stopped before the line came out.
            end = ends[number] if number < len(ends) else instance.killed_at or float("inf")
            runs.append(Run(start, end, instance.pid))
    return sorted(runs, key=lambda run: run.start)


def assert_once_per_interval(runs: list[Run]) -> None:
    """Fixed rate on the planned time: the n-th run starts n seconds after the plan's anchor,
    late by its scheduling latency (more for the first run of a process still starting up).
    A doubled interval shifts every later run a second early, a missed one a second late."""
    anchor = statistics.median(run.start - number for number, run in enumerate(runs))
    deviations = [round(run.start - number - anchor, 2) for number, run in enumerate(runs)]
    assert all(-0.3 < deviation < 0.6 for deviation in deviations), deviations


@pytest.mark.parametrize("server", ["POSTGRES", "MYSQL_8"], ids=["postgres", "mysql"])
async def test_three_instances_run_a_global_task_once_per_interval_and_survive_a_kill(
    tmp_path: Path, test_databases: TestDatabases, server: Any
) -> None:
    database = await test_databases.backend_config(server)
    site = tmp_path / "site"
    install_fake_distribution(site, "ticker_plugin", TICKER, "ticker = ticker_plugin:features")
    config = {
        "backend": {
            "baseUrl": "http://localhost:7007",
            "listen": {"host": "127.0.0.1", "port": 0},
            "database": database,
        }
    }
    (tmp_path / "app-config.yaml").write_text(json.dumps(config))
    python_path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "LOG_FORMAT": "json", "PYTHONPATH": python_path}

    instances: list[Instance] = []
    try:
        async with anyio.create_task_group() as group:
            for _ in range(3):
                process = await anyio.open_process(
                    [str(CLI), "serve"], cwd=tmp_path, stderr=sys.stderr, env=env
                )
                instance = Instance(process)
                instances.append(instance)
                group.start_soon(instance.pump)
            await eventually(
                lambda: all(i.said("Plugin initialization complete") for i in instances), 60
            )

            def starts() -> int:
                return sum(len(i.ticks("tick start")) for i in instances)

            # Phase 1: all three instances compete for about seven intervals.
            seen = starts()
            await eventually(lambda: starts() >= seen + 7, timeout=15)
            before_kill = runs_of(instances)

            # Kill the instance that starts the next run, while that run is in progress.
            counts = [len(i.ticks("tick start")) for i in instances]
            await eventually(
                lambda: any(
                    len(i.ticks("tick start")) > c for i, c in zip(instances, counts, strict=True)
                ),
                timeout=5,
            )
            victim = next(
                i for i, c in zip(instances, counts, strict=True) if len(i.ticks("tick start")) > c
            )
            victim.process.send_signal(signal.SIGKILL)
            victim.killed_at = victim.ticks("tick start")[-1] + 0.05  # at most; the run lasts 0.4 s
            killed_start = victim.ticks("tick start")[-1]
            survivors = [i for i in instances if i is not victim]

            # Phase 2: the survivors take over and go on for about five intervals.
            seen = starts()
            await eventually(lambda: starts() >= seen + 6, timeout=15)
            for survivor in survivors:
                survivor.process.send_signal(signal.SIGTERM)
            with anyio.fail_after(30):
                codes = [await survivor.process.wait() for survivor in survivors]
    finally:
        for instance in instances:
            if instance.process.returncode is None:
                instance.process.kill()
                with anyio.move_on_after(10):
                    await instance.process.wait()
            await instance.process.aclose()

    runs = [run for run in runs_of(instances) if run.end != float("inf")]
    # Never two runs at once, on any instances.
    overlaps = [(a, b) for a, b in pairwise(runs) if b.start < a.end]
    assert not overlaps
    # Before the kill: every interval exactly once.
    assert_once_per_interval([run for run in runs if run.start <= killed_start])
    assert len(before_kill) >= 7
    # The lease of the killed run held until it expired; then a survivor took over at once.
    after = [run for run in runs if run.start > killed_start]
    takeover = after[0].start - killed_start
    assert TIMEOUT_SECONDS - 0.05 <= takeover <= TIMEOUT_SECONDS + 1.0, takeover
    assert after[0].pid != victim.pid
    assert_once_per_interval(after)
    assert len({run.pid for run in runs}) >= 2
    assert codes == [0, 0]
