"""Overhead of the data services against the raw libraries, measured in one run.

- cache get/set through ``core.cache`` (a started backend, ``backend.cache.store: redis``)
  against raw aiocache with the same serializer on the same Redis (127.0.0.1:6379);
- ``SELECT 1`` through ``core.database`` against a raw ``create_async_engine`` with the same
  pool settings on the same PostgreSQL (127.0.0.1:5432), plus in-memory SQLite.

Batches alternate between the two contenders and medians are compared. Target: at most 10%
overhead. Run:

    python benchmarks/data_overhead.py [--cache-rounds 20000] [--database-rounds 3000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _cache_overhead
import _database_overhead

TARGET_OVERHEAD_PERCENT = 10.0


async def run(cache_rounds: int, database_rounds: int) -> list[dict[str, object]]:
    rows = await _cache_overhead.measure(cache_rounds)
    rows += await _database_overhead.measure(database_rounds)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-rounds", type=int, default=20_000)
    parser.add_argument("--database-rounds", type=int, default=3_000)
    args = parser.parse_args()
    rows = anyio.run(run, args.cache_rounds, args.database_rounds)
    print(f"{'operation':40}{'service ops/s':>15}{'raw ops/s':>12}{'overhead':>10}")
    worst = 0.0
    for row in rows:
        service = float(row["service_ops_per_sec"])  # type: ignore[arg-type]
        raw = float(row["raw_ops_per_sec"])  # type: ignore[arg-type]
        overhead = (raw / service - 1) * 100
        worst = max(worst, overhead)
        print(f"{row['name']!s:40}{service:15.0f}{raw:12.0f}{overhead:9.1f}%")
    verdict = "meets" if worst <= TARGET_OVERHEAD_PERCENT else "MISSES"
    print(f"worst overhead {worst:.1f}% ({verdict} the {TARGET_OVERHEAD_PERCENT:g}% target)")


if __name__ == "__main__":
    main()
