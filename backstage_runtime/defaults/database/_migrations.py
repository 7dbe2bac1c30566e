"""Running a plugin's Alembic migrations, once across every instance that starts together."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import anyio
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ._locks import advisory_lock_key, alembic_lock
from ._pg_config import MAX_IDENTIFIER_BYTES

if TYPE_CHECKING:
    # Alembic (with Mako and Pygments behind it, ~165 ms) is imported where migrations run, so
    # a backend whose plugins never migrate never loads it.
    from alembic.runtime.migration import MigrationContext, MigrationInfo
    from alembic.script import ScriptDirectory

__all__ = [
    "load_migration_scripts",
    "migration_lock_key",
    "mysql_migration_lock_name",
    "run_migrations",
]

# How long one GET_LOCK call waits before asking again (seconds).
_MYSQL_LOCK_WAIT_SECONDS = 5
# Python files of an Alembic folder that are not revisions.
_NOT_REVISIONS = frozenset({"env.py", "__init__.py"})


def migration_lock_key(schema: str | None, version_table: str) -> int:
    """The advisory lock held while migrating ``version_table`` (in ``schema``).

    Advisory locks belong to one database, so in database division mode the key only needs to
    tell apart migration sets sharing that database; in schema mode the schema does that.
    """
    return advisory_lock_key("migrations", schema or "", version_table)


def mysql_migration_lock_name(database: str, version_table: str) -> str:
    """The ``GET_LOCK`` name held while migrating ``version_table`` of ``database``.

    MySQL's named locks are server-wide (not per database, unlike PostgreSQL's advisory locks),
    so the name includes the database; hashed, because names are limited to 64 characters.
    """
    key = advisory_lock_key("migrations", database, version_table)
    return f"backstage-runtime:migrations:{key & 0xFFFFFFFFFFFFFFFF:016x}"


async def run_migrations(
    engine: AsyncEngine,
    script: ScriptDirectory,
    *,
    version_table: str,
    schema: str | None,
) -> list[str]:
    """Upgrade to the head revision(s) of ``script`` (from :func:`load_migration_scripts`); the
    revisions applied, in order.

    Only the ``versions`` directory is used: the plugin's ``env.py``, if any, is not run, since
    the connection, version table and schema come from the database service. On PostgreSQL the
    run holds an advisory lock, on MySQL a ``GET_LOCK`` named lock, so that concurrent instances
    migrate one after the other (the later ones find nothing left to do).
    """
    if len(version_table.encode()) > MAX_IDENTIFIER_BYTES:
        raise ValueError(
            f"Migration version table name '{version_table}' exceeds {MAX_IDENTIFIER_BYTES} bytes"
        )
    async with engine.connect() as conn:
        dialect = engine.dialect.name
        if dialect == "postgresql":
            lock: _ServerLock | None = _PgLock(migration_lock_key(schema, version_table))
        elif dialect == "mysql":
            lock = _MysqlLock(mysql_migration_lock_name(engine.url.database or "", version_table))
        else:
            lock = None
        if lock is None:
            async with alembic_lock():
                return await conn.run_sync(_upgrade, script, version_table, schema)
        await lock.acquire(conn)
        # End the implicit transaction: the session-level lock stays, and Alembic can manage
        # its own transactions on this connection.
        await conn.commit()
        try:
            async with alembic_lock():
                return await conn.run_sync(_upgrade, script, version_table, schema)
        finally:
            with anyio.CancelScope(shield=True):
                await _unlock(conn, lock)


class _ServerLock(Protocol):
    """A session-level lock held on the database server while one instance migrates."""

    async def acquire(self, conn: AsyncConnection) -> None:
        """Wait until this session holds the lock."""

    async def release(self, conn: AsyncConnection) -> None:
        """Give the lock up."""


@dataclass(frozen=True)
class _PgLock:
    key: int

    async def acquire(self, conn: AsyncConnection) -> None:
        await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": self.key})

    async def release(self, conn: AsyncConnection) -> None:
        await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})


@dataclass(frozen=True)
class _MysqlLock:
    name: str

    async def acquire(self, conn: AsyncConnection) -> None:
        # GET_LOCK waits at most its timeout: ask again until granted, so a long migration
        # elsewhere delays this instance instead of failing it.
        while True:
            granted = await conn.scalar(
                text("SELECT GET_LOCK(:name, :seconds)"),
                {"name": self.name, "seconds": _MYSQL_LOCK_WAIT_SECONDS},
            )
            if granted == 1:
                return
            if granted is None:
                raise RuntimeError(f"MySQL refused the migration lock '{self.name}'")

    async def release(self, conn: AsyncConnection) -> None:
        await conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": self.name})


async def _unlock(conn: AsyncConnection, lock: _ServerLock) -> None:
    try:
        await conn.rollback()
        await lock.release(conn)
        await conn.commit()
    except Exception:
        # The server releases session locks when the session ends: drop this connection
        # rather than return it to the pool still holding the lock.
        await conn.invalidate()


def load_migration_scripts(location: Path) -> ScriptDirectory | None:
    """The Alembic scripts in ``location``; None when it holds no script at all.

    Raises :class:`FileNotFoundError` naming ``location`` when it does not exist, or when it
    holds Python scripts beside an empty or missing ``versions/`` subfolder: Alembic only runs
    ``versions/*.py``, so those scripts would silently never be applied. Reads and imports every
    revision file: call it in a worker thread.
    """
    if not location.is_dir():
        raise FileNotFoundError(f"Migration script directory '{location}' does not exist")
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(location))
    if script.get_heads():  # loads the revision map now
        return script
    loose = sorted(path.name for path in location.glob("*.py") if path.name not in _NOT_REVISIONS)
    if loose:
        raise FileNotFoundError(
            f"Migration script directory '{location}' has no revisions in "
            f"'{location / 'versions'}', but holds {', '.join(loose)}: Alembic only runs the "
            "scripts in the versions/ subfolder, so move them there"
        )
    return None


def _upgrade(
    connection: Connection, script: ScriptDirectory, version_table: str, schema: str | None
) -> list[str]:
    from alembic.config import Config as AlembicConfig
    from alembic.runtime.environment import EnvironmentContext

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
