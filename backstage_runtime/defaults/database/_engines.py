"""One plugin's engine: its database or schema first, then the pool, watched for outages."""

from __future__ import annotations

from collections.abc import Callable

import anyio
from sqlalchemy.ext.asyncio import AsyncEngine

from ._availability import watch_availability
from ._mysql import create_mysql_engine
from ._postgres import create_pg_engine
from ._provisioning import DatabaseProvisioner
from ._settings import MysqlSettings, PgSettings, PluginDatabaseSettings
from ._sqlite import create_sqlite_engine

__all__ = ["create_migration_engine", "create_plugin_engine"]


async def create_plugin_engine(
    settings: PluginDatabaseSettings,
    provisioner: DatabaseProvisioner,
    *,
    instrument: Callable[[AsyncEngine, str], None] | None = None,
) -> AsyncEngine:
    """The engine of ``settings.plugin_id``, its database (or schema) created when configured
    so and ``pool.min`` connections opened; ``instrument`` (telemetry) sees it before its first
    connection.
    """
    target = settings.target
    if isinstance(target, PgSettings):
        if target.ensure_database:
            await provisioner.ensure_database(target)
        engine = create_pg_engine(target, settings.pool)
    elif isinstance(target, MysqlSettings):
        if target.ensure_database:
            await provisioner.ensure_mysql_database(target)
        engine = create_mysql_engine(target, settings.pool)
    else:
        engine = create_sqlite_engine(target, settings.pool)
    watch_availability(engine, settings.plugin_id)
    if instrument is not None:
        instrument(engine, settings.plugin_id)
    try:
        if isinstance(target, PgSettings) and target.ensure_schema:
            await provisioner.ensure_schema(engine, target, settings.plugin_id)
        await _fill_pool(engine, settings.pool.min_size)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await engine.dispose()
        raise
    return engine


def create_migration_engine(target: PgSettings, settings: PluginDatabaseSettings) -> AsyncEngine:
    """A PostgreSQL engine of its own for migrations, without the statement timeout."""
    engine = create_pg_engine(target, settings.pool, for_migrations=True)
    watch_availability(engine, settings.plugin_id)
    return engine


async def _fill_pool(engine: AsyncEngine, count: int) -> None:
    """Open ``count`` connections at once and return them to the pool (knex's ``pool.min``).

    Raises the first connection error as it is (not wrapped in an exception group).
    """
    if count <= 0:
        return
    release = anyio.Event()
    opened: list[None] = []
    errors: list[Exception] = []

    async def hold() -> None:
        try:
            async with engine.connect():
                opened.append(None)
                if len(opened) == count:
                    release.set()
                await release.wait()
        except Exception as error:
            errors.append(error)
            release.set()

    async with anyio.create_task_group() as group:
        for _ in range(count):
            group.start_soon(hold)
    if errors:
        raise errors[0]
