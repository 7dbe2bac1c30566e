"""One backend instance in its own process, for the concurrent-start test.

Usage: python _backend_process.py '<backend.database config as JSON>'
Prints "ready" once imported, starts the backend when a line arrives on stdin, prints
"started" (or "failed: <error>"), and stops when stdin closes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).parent))

# The sibling _support.py (put on sys.path above, as this runs as a script); mypy resolves the
# name to tests/_support instead.
from _support import COUNTER_MIGRATIONS, database_plugin  # type: ignore[attr-defined]

from backstage_runtime.defaults.database import database_service_factory
from backstage_runtime.testing import start_test_backend


async def main(database: dict[str, object]) -> None:
    stdin = anyio.wrap_file(sys.stdin)
    print("ready", flush=True)
    if not (await stdin.readline()).strip():
        return  # stdin closed before the go signal: the test gave up
    try:
        async with start_test_backend(
            features=[
                database_service_factory(),
                database_plugin("counter", migrations=COUNTER_MIGRATIONS),
            ],
            config={"backend": {"database": database}},
        ):
            print("started", flush=True)
            await stdin.read()
    except Exception as error:
        print(f"failed: {error!r}", flush=True)
        raise


if __name__ == "__main__":
    anyio.run(main, json.loads(sys.argv[1]))
