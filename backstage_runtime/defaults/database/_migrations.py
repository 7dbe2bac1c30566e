"""Running a plugin's Alembic migrations, once across every instance that starts together."""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

import anyio
from alembic.config import Config as AlembicConfig
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, MigrationInfo
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ._locks import advisory_lock_key, alembic_lock
from ._pg_config import MAX_IDENTIFIER_BYTES

__all__ = ["migration_lock_key", "run_migrations"]


def migration_lock_key(schema: str | None, version_table: str) -> int:
    """The advisory lock held while migrating ``version_table`` (in ``schema``).

    Advisory locks belong to one database, so in database division mode the key only needs to
    tell apart migration sets sharing that database; in schema mode the schema does that.
    """
    return advisory_lock_key("migrations", schema or "", version_table)


async def run_migrations(
    engine: AsyncEngine,
    script_location: str | os.PathLike[str],
    *,
    version_table: str,
    schema: str | None,
) -> list[str]:
    """Upgrade to the head revision(s) of the scripts in ``script_location``; the revisions
    applied, in order.

    Only the ``versions`` directory is used: the plugin's ``env.py``, if any, is not run, since
    the connection, version table and schema come from the database service. On PostgreSQL the
    run holds an advisory lock so that concurrent instances migrate one after the other (the
    later ones find nothing left to do).
    """
    if len(version_table.encode()) > MAX_IDENTIFIER_BYTES:
        raise ValueError(
            f"Migration version table name '{version_table}' exceeds {MAX_IDENTIFIER_BYTES} bytes"
        )
    script = await anyio.to_thread.run_sync(_load_scripts, Path(script_location))
    async with engine.connect() as conn:
        if engine.dialect.name != "postgresql":
            async with alembic_lock():
                return await conn.run_sync(_upgrade, script, version_table, schema)
        key = migration_lock_key(schema, version_table)
        await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        # End the implicit transaction: the session-level lock stays, and Alembic can manage
        # its own transactions on this connection.
        await conn.commit()
        try:
            async with alembic_lock():
                return await conn.run_sync(_upgrade, script, version_table, schema)
        finally:
            with anyio.CancelScope(shield=True):
                await _unlock(conn, key)


async def _unlock(conn: AsyncConnection, key: int) -> None:
    try:
        await conn.rollback()
        await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        await conn.commit()
    except Exception:
        # The server releases session locks when the session ends: drop this connection
        # rather than return it to the pool still holding the lock.
        await conn.invalidate()


def _load_scripts(location: Path) -> ScriptDirectory:
    # In a worker thread: this reads and imports every revision file, which would otherwise
    # block the event loop while other plugins start.
    if not location.is_dir():
        raise FileNotFoundError(f"Migration script directory '{location}' does not exist")
    script = ScriptDirectory(str(location))
    script.get_heads()  # loads the revision map now
    return script


def _upgrade(
    connection: Connection, script: ScriptDirectory, version_table: str, schema: str | None
) -> list[str]:
    applied: list[str] = []

    def upgrade(revision: Any, _context: Any) -> Any:
        # What ``alembic upgrade heads`` does; Alembic has no public call that runs it without
        # also running env.py.
        return script._upgrade_revs("heads", revision)

    def record(
        ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Any
    ) -> None:
        # Alembic calls this with keyword arguments of exactly these names.
        applied.extend(step.up_revision_ids)

    config = AlembicConfig()
    config.set_main_option("script_location", script.dir)
    with EnvironmentContext(config, script, fn=upgrade, destination_rev="heads") as environment:
        environment.configure(
            connection=connection,
            version_table=version_table,
            version_table_schema=schema,
            on_version_apply=record,
        )
        with environment.begin_transaction():
            environment.run_migrations()
    return applied
