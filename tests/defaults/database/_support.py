"""Plugins and queries shared by the database tests (also imported by _backend_process.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from backstage_runtime import BackendPlugin, core_services, create_backend_plugin

MIGRATIONS = Path(__file__).parent / "migrations"
COUNTER_MIGRATIONS = MIGRATIONS / "counter"
NOTES_MIGRATIONS = MIGRATIONS / "notes"


def database_plugin(
    plugin_id: str,
    *,
    migrations: Path | None = None,
    seen: dict[str, Any] | None = None,
    then: Callable[[Any], Awaitable[None]] | None = None,
) -> BackendPlugin:
    """A plugin whose init migrates (when given ``migrations``), records its database service
    in ``seen[plugin_id]`` and runs ``then(database)``."""

    def register(env: Any) -> None:
        async def init(*, database: Any) -> None:
            if seen is not None:
                seen[plugin_id] = database
            if migrations is not None:
                await database.migrate(migrations)
            if then is not None:
                await then(database)

        env.register_init(deps={"database": core_services.database}, init=init)

    return create_backend_plugin(plugin_id=plugin_id, register=register)


async def table_names(engine: AsyncEngine) -> set[str]:
    """The tables visible (unqualified) to a connection of ``engine``."""
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def count_events(engine: AsyncEngine) -> int:
    """Rows in the counter migrations' ``events`` table."""
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM events"))).scalar_one())
