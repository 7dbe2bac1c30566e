"""Overhead of the database service against raw SQLAlchemy on the same database.

The service row runs ``SELECT 1`` on the engine a started backend's ``core.database`` hands to a
plugin; the raw row runs it on an engine built with ``create_async_engine`` on the same database
with the same pool settings. Both are measured in the same run, interleaved batch by batch so
that drift (CPU frequency, server load) hits both alike; the medians of the batches count, and
the overhead is the median of the per-batch ratios. Run:

    python benchmarks/_database_overhead.py [--rounds 2000]

PostgreSQL comes from BACKSTAGE_TEST_DATABASE_POSTGRES_CONNECTION_STRING (default: postgres on
127.0.0.1:5432); the benchmark creates its own database and drops it afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, NullPool

from backstage_runtime import core_services
from backstage_runtime.defaults.database import PgSettings, database_service_factory
from backstage_runtime.testing import start_test_backend

POSTGRES = os.environ.get(
    "BACKSTAGE_TEST_DATABASE_POSTGRES_CONNECTION_STRING",
    "postgresql://postgres@127.0.0.1:5432/postgres",
)
BATCHES = 9
CONCURRENCY = 10


async def select_one(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def sequential(engine: AsyncEngine, rounds: int) -> None:
    for _ in range(rounds):
        await select_one(engine)


async def concurrent(engine: AsyncEngine, rounds: int) -> None:
    async def worker(count: int) -> None:
        for _ in range(count):
            await select_one(engine)

    async with anyio.create_task_group() as group:
        for _ in range(CONCURRENCY):
            group.start_soon(worker, rounds // CONCURRENCY)


async def compare(
    name: str,
    service: AsyncEngine,
    raw: AsyncEngine,
    workload: Callable[[AsyncEngine, int], Awaitable[None]],
    rounds: int,
) -> dict[str, object]:
    """Median throughput of ``workload`` on both engines over interleaved batches."""
    rates: dict[str, list[float]] = {"service": [], "raw": []}
    await workload(service, max(rounds // 10, CONCURRENCY))  # warm both pools up
    await workload(raw, max(rounds // 10, CONCURRENCY))
    for batch in range(BATCHES):
        # Alternate which engine goes first, so neither always runs on a warmer machine.
        order = [("service", service), ("raw", raw)]
        if batch % 2:
            order.reverse()
        for label, engine in order:
            started = time.perf_counter()
            await workload(engine, rounds)
            rates[label].append(rounds / (time.perf_counter() - started))
    ratios = [raw / service for service, raw in zip(rates["service"], rates["raw"], strict=True)]
    return {
        "name": name,
        "service_ops_per_sec": statistics.median(rates["service"]),
        "raw_ops_per_sec": statistics.median(rates["raw"]),
        "overhead_percent": (statistics.median(ratios) - 1) * 100,
    }


async def measure(rounds: int) -> list[dict[str, object]]:
    """Rows ``{name, service_ops_per_sec, raw_ops_per_sec, overhead_percent}``: SELECT 1 on
    PostgreSQL (sequential and with 10 concurrent tasks) and on in-memory SQLite."""
    rows: list[dict[str, object]] = []
    rows.extend(await _measure_postgres(rounds))
    rows.append(await _measure_sqlite(rounds))
    return rows


async def _measure_postgres(rounds: int) -> list[dict[str, object]]:
    server = make_url(POSTGRES).set(drivername="postgresql+asyncpg")
    prefix = f"bench{uuid.uuid4().hex[:10]}_"
    connection: dict[str, Any] = {"host": server.host or "127.0.0.1", "port": server.port or 5432}
    if server.username:
        connection["user"] = server.username
    if server.password:
        connection["password"] = server.password
    config = {"backend": {"database": {"client": "pg", "connection": connection, "prefix": prefix}}}
    try:
        async with start_test_backend(
            features=[database_service_factory()], config=config, log_level="warn"
        ) as backend:
            database = await backend.get_service(core_services.database, "bench")
            service = await database.get_client()
            settings = database.settings
            target = settings.target
            assert isinstance(target, PgSettings)
            raw = create_async_engine(
                server.set(database=target.database),
                pool_size=settings.pool.max_size,
                max_overflow=0,
                pool_timeout=settings.pool.acquire_timeout,
                connect_args={"server_settings": {"application_name": "bench_raw"}},
            )
            try:
                return [
                    await compare("SELECT 1 (PostgreSQL)", service, raw, sequential, rounds),
                    await compare(
                        f"SELECT 1, {CONCURRENCY} tasks (PostgreSQL)",
                        service,
                        raw,
                        concurrent,
                        rounds,
                    ),
                ]
            finally:
                await raw.dispose()
    finally:
        await _drop_databases(server, prefix)


async def _measure_sqlite(rounds: int) -> dict[str, object]:
    async with start_test_backend(
        features=[database_service_factory()], log_level="warn"
    ) as backend:
        database = await backend.get_service(core_services.database, "bench")
        service = await database.get_client()
        raw = create_async_engine(
            "sqlite+aiosqlite://", poolclass=AsyncAdaptedQueuePool, pool_size=1, max_overflow=0
        )
        try:
            return await compare("SELECT 1 (SQLite in memory)", service, raw, sequential, rounds)
        finally:
            await raw.dispose()


async def _drop_databases(server: Any, prefix: str) -> None:
    admin = create_async_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            names = (
                await conn.execute(
                    text("SELECT datname FROM pg_database WHERE left(datname, length(:p)) = :p"),
                    {"p": prefix},
                )
            ).scalars()
            for name in list(names):
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        await admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    rows = anyio.run(measure, args.rounds)
    print(f"{'workload':<36} {'service ops/s':>14} {'raw ops/s':>12} {'overhead':>9}")
    for row in rows:
        print(
            f"{row['name']!s:<36} {row['service_ops_per_sec']:>14.0f} "
            f"{row['raw_ops_per_sec']:>12.0f} {row['overhead_percent']:>8.1f}%"
        )


if __name__ == "__main__":
    main()
