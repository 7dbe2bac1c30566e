"""Backstage's scale-out model end to end: three identical instances over one PostgreSQL and one
Redis, behind a real HAProxy that health-checks readiness. A rolling restart under steady load
loses no request, a SIGKILLed instance costs at most the requests it held, and a global task
still runs once per interval across the three.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from _support.polling import eventually
from _support.replicas import HAProxy, Load, Replica, replica_cluster
from _support.serve import install_fake_distribution
from anyio.abc import TaskGroup

pytestmark = pytest.mark.anyio

TICK_SECONDS = 0.7
LOAD_LOOPS = 4

REPLICA_PLUGIN = """
import os
import time

from quart import Blueprint
from sqlalchemy import text

from backstage_runtime import core_services, create_backend_plugin


def register(env):
    async def init(http, database, scheduler):
        engine = await database.get_client()
        async with engine.begin() as connection:
            await connection.execute(
                text("create table if not exists runs (pid integer, started double precision)")
            )
        routes = Blueprint("replica", __name__)

        @routes.get("/hello")
        async def hello():
            return {"pid": os.getpid()}

        @routes.get("/runs")
        async def runs():
            async with engine.connect() as connection:
                rows = await connection.execute(text("select pid, started from runs order by 2"))
                return {"runs": [[pid, started] for pid, started in rows]}

        http.use(routes)
        http.add_auth_policy(path="/", allow="unauthenticated")

        async def tick():
            started = time.time()
            async with engine.begin() as connection:
                await connection.execute(
                    text("insert into runs values (:pid, :started)"),
                    {"pid": os.getpid(), "started": started},
                )

        await scheduler.schedule_task(
            id="tick",
            frequency={"milliseconds": int(float(os.environ["TICK_SECONDS"]) * 1000)},
            timeout={"seconds": 5},
            fn=tick,
            scope="global",
        )

    env.register_init(
        deps={
            "http": core_services.http_router,
            "database": core_services.database,
            "scheduler": core_services.scheduler,
        },
        init=init,
    )


replica_plugin = create_backend_plugin(plugin_id="replica", register=register)
"""


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[tuple[list[Replica], HAProxy, TaskGroup]]:
    site = tmp_path / "site"
    install_fake_distribution(
        site, "replica_plugin", REPLICA_PLUGIN, "replica = replica_plugin:replica_plugin"
    )
    env = {"TICK_SECONDS": str(TICK_SECONDS)}
    async with replica_cluster(tmp_path, site, env=lambda _index: env) as running:
        yield running.replicas, running.balancer, running.readers


async def _more_answers(load: Load, count: int) -> None:
    target = load.outcomes["ok"] + count
    await eventually(lambda: load.outcomes["ok"] >= target, timeout=30)


async def _runs(balancer: HAProxy) -> list[list[Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{balancer.port}/api/replica/runs") as response,
    ):
        assert response.status == 200
        runs: list[list[Any]] = (await response.json())["runs"]
        return runs


async def test_a_rolling_restart_under_load_loses_no_request(
    cluster: tuple[list[Replica], HAProxy, TaskGroup],
) -> None:
    replicas, balancer, readers = cluster
    load = Load(f"http://127.0.0.1:{balancer.port}/api/replica/hello")
    async with anyio.create_task_group() as group:
        for _ in range(LOAD_LOOPS):
            group.start_soon(load.loop)
        await eventually(lambda: load.outcomes["ok"] >= 50, timeout=30)
        for index, replica in enumerate(replicas):
            assert await replica.stop() == 0
            await replica.start(readers)
            await balancer.wait_for(f"r{index}", "UP")
            await _more_answers(load, 20)
        load.running = False
    assert load.failures() == 0, (load.outcomes, load.examples)
    # Traffic reached every restarted process, not just the survivors.
    assert {replica.pids[-1] for replica in replicas} <= load.pids


async def test_a_killed_instance_costs_at_most_the_requests_it_held(
    cluster: tuple[list[Replica], HAProxy, TaskGroup],
) -> None:
    replicas, balancer, _readers = cluster
    load = Load(f"http://127.0.0.1:{balancer.port}/api/replica/hello")
    victim = replicas[1]
    assert victim.serve is not None
    async with anyio.create_task_group() as group:
        for _ in range(LOAD_LOOPS):
            group.start_soon(load.loop)
        await eventually(lambda: load.outcomes["ok"] >= 50, timeout=30)
        victim.serve.process.kill()
        await balancer.wait_for("r1", "DOWN")
        await _more_answers(load, 50)
        load.running = False
    # Each client holds one request at a time, so at most LOAD_LOOPS were on the victim.
    assert load.failures() <= LOAD_LOOPS, (load.outcomes, load.examples)


async def test_a_global_task_runs_once_per_interval_across_the_instances(
    cluster: tuple[list[Replica], HAProxy, TaskGroup],
) -> None:
    _replicas, balancer, _readers = cluster

    async def enough_runs() -> bool:
        return len(await _runs(balancer)) >= 6

    await eventually(enough_runs, timeout=60)
    starts = [started for _pid, started in await _runs(balancer)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    # Three instances compete for every run and the database lets exactly one take it: a run
    # taken twice would start twice within milliseconds. (Half the frequency of slack: each start
    # is stamped by the task itself, after the claim, on a machine busy with three backends.)
    assert min(gaps) >= TICK_SECONDS * 0.5, gaps
