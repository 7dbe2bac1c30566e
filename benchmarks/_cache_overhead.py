"""Overhead of the cache service over raw aiocache on the same Redis, with the same serializer.

For ``get`` and ``set``, compares the ``core.cache`` service of a started backend (key
normalisation, namespacing, Keyv envelope, outage guard) with aiocache's ``RedisCache`` used
directly with the service's serializer. Short batches of the two alternate, so a busy machine or
Redis slows both alike; each figure is total operations over total time. The service's pool has
socket timeouts (aiocache's default pool has none): their cost counts as service overhead.
Needs Redis at ``$BACKSTAGE_TEST_CACHE_REDIS7_CONNECTION_STRING`` (default
``redis://127.0.0.1:6379``); every key it writes is removed afterwards. Run:

    python benchmarks/_cache_overhead.py [--rounds 20000]
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import anyio
from aiocache import RedisCache  # type: ignore[import-untyped]
from redis.asyncio import Redis

from backstage_runtime import core_services, create_backend_plugin
from backstage_runtime.defaults.cache import CacheEntry, KeyvJsonSerializer, cache_service_factory
from backstage_runtime.testing import start_test_backend

#: Operations per batch: short, so both contenders see the same load on a shared Redis.
BATCH = 50
PAYLOAD: dict[str, Any] = {
    "entityRef": "component:default/petstore",
    "tags": ["java", "payments"],
    "owner": {"kind": "Group", "name": "team-a"},
    "score": 0.93,
}

Operation = Callable[[], Awaitable[object]]


def _bench_plugin() -> Any:
    def register(env: Any) -> None:
        env.register_init(deps={"cache": core_services.cache}, init=lambda cache: None)

    return create_backend_plugin(plugin_id="bench", register=register)


async def _elapsed(operation: Operation, count: int) -> float:
    began = time.perf_counter()
    for _ in range(count):
        await operation()
    return time.perf_counter() - began


async def _compare(service: Operation, raw: Operation, rounds: int) -> tuple[float, float]:
    """Operations per second of each, from many short interleaved batches."""
    for operation in (service, raw):  # warm up connections and code paths
        await _elapsed(operation, 500)
    batches = max(1, rounds // BATCH)
    spent = {service: 0.0, raw: 0.0}
    for batch in range(batches):
        first, second = (service, raw) if batch % 2 == 0 else (raw, service)
        spent[first] += await _elapsed(first, BATCH)
        spent[second] += await _elapsed(second, BATCH)
    return batches * BATCH / spent[service], batches * BATCH / spent[raw]


async def measure(rounds: int) -> list[dict[str, object]]:
    """Rows ``{"name", "service_ops_per_sec", "raw_ops_per_sec", "overhead_percent"}`` for get
    and set on Redis; ``rounds`` operations of each kind per contender.
    """
    connection = (
        os.environ.get("BACKSTAGE_TEST_CACHE_REDIS7_CONNECTION_STRING")
        or os.environ.get("BACKSTAGE_TEST_CACHE_REDIS_CONNECTION_STRING")
        or "redis://127.0.0.1:6379"
    )
    namespace = f"bench-{uuid.uuid4().hex[:12]}"
    config = {
        "backend": {
            "cache": {
                "store": "redis",
                "connection": connection,
                "redis": {"client": {"namespace": namespace}},
            }
        }
    }
    location = urlsplit(connection)
    raw = RedisCache(
        endpoint=location.hostname or "127.0.0.1",
        port=location.port or 6379,
        serializer=KeyvJsonSerializer(),
        timeout=None,  # as the service configures it: redis-py's socket timeouts bound calls
    )
    raw_key = f"{namespace}:raw"
    try:
        async with start_test_backend(
            features=[cache_service_factory(), _bench_plugin()], config=config, log_level="error"
        ) as test:
            cache = await test.get_service(core_services.cache, "bench")

            async def service_set() -> None:
                await cache.set("petstore", PAYLOAD)

            async def raw_set() -> None:
                await raw.set(raw_key, CacheEntry(PAYLOAD))

            async def service_get() -> object:
                return await cache.get("petstore")

            async def raw_get() -> object:
                entry = await raw.get(raw_key)
                return entry.value

            rows: list[dict[str, object]] = []
            for name, service_op, raw_op in (
                ("cache set (Redis)", service_set, raw_set),
                ("cache get (Redis)", service_get, raw_get),
            ):
                service_rate, raw_rate = await _compare(service_op, raw_op, rounds)
                rows.append(
                    {
                        "name": name,
                        "service_ops_per_sec": service_rate,
                        "raw_ops_per_sec": raw_rate,
                        "overhead_percent": (raw_rate / service_rate - 1) * 100,
                    }
                )
            assert await cache.get("petstore") == PAYLOAD
            assert cache.metrics.store_errors == 0
            return rows
    finally:
        await raw.client.aclose(close_connection_pool=True)
        async with Redis.from_url(connection) as cleanup:
            async for key in cleanup.scan_iter(match=f"{namespace}:*"):
                await cleanup.unlink(key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20_000)
    args = parser.parse_args()
    rows = anyio.run(measure, args.rounds)
    print(f"{'operation':<20} {'service ops/s':>14} {'raw aiocache ops/s':>19} {'overhead':>9}")
    for row in rows:
        print(
            f"{row['name']!s:<20} {row['service_ops_per_sec']:>14,.0f} "
            f"{row['raw_ops_per_sec']:>19,.0f} {row['overhead_percent']:>8.1f}%"
        )


if __name__ == "__main__":
    main()
