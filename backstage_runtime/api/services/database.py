"""``core.database``: a per-plugin database."""

from __future__ import annotations

import os
import re
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    # Only for annotations: the API layer stays importable without loading SQLAlchemy.
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

__all__ = ["DatabaseMigrations", "DatabaseService", "is_database_conflict_error"]


@dataclass(frozen=True)
class DatabaseMigrations:
    """Backstage's ``migrations`` option of a plugin database: ``skip`` means "do not migrate"."""

    skip: bool = False


class DatabaseService(Protocol):
    """A plugin's own database: an SQLAlchemy ``AsyncEngine`` and its migrations.

    Each plugin gets a database nobody else sees (its own SQLite database, PostgreSQL database or
    PostgreSQL schema, as ``backend.database`` says)::

        def register(env: PluginRegistrationPoints) -> None:
            async def init(*, database: DatabaseService) -> None:
                await database.migrate(Path(__file__).parent / "migrations")
                async with database.begin() as conn:
                    await conn.execute(text("INSERT INTO todos (title) VALUES ('docs')"))

            env.register_init(deps={"database": core_services.database}, init=init)
    """

    async def get_client(self) -> AsyncEngine:
        """The plugin's SQLAlchemy ``AsyncEngine``, created (database included) on first call."""

    @property
    def skip_migrations(self) -> bool:
        """True when ``migrations.skip`` is configured: the plugin must not migrate."""

    @property
    def migrations(self) -> DatabaseMigrations:
        """Backstage's ``migrations`` option (``migrations.skip`` is :attr:`skip_migrations`)."""

    async def migrate(
        self, script_location: str | os.PathLike[str], *, version_table: str | None = None
    ) -> None:
        """Upgrade the database to the newest revision of the Alembic scripts at
        ``script_location``; a no-op when :attr:`skip_migrations` is set.
        """

    def connect(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """``async with database.connect() as conn:`` a pooled connection of the engine."""

    def begin(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """``async with database.begin() as conn:`` a connection in a transaction that commits
        when the block ends and rolls back when it raises.
        """

    def session(self, **options: Any) -> AbstractAsyncContextManager[AsyncSession]:
        """``async with database.session() as session:`` an ORM session on the engine."""


# Unique-constraint violations as the drivers word them: PostgreSQL's SQLSTATE 23505 (asyncpg
# names it UniqueViolationError), SQLite's "UNIQUE constraint failed", MySQL's "Duplicate entry".
_CONFLICT_PATTERN = re.compile(
    r"UniqueViolation|UNIQUE constraint failed|duplicate key value|Duplicate entry",
    re.IGNORECASE,
)


def is_database_conflict_error(error: object) -> bool:
    """Whether ``error`` is a unique-constraint violation, on any supported database.

    Backstage's ``isDatabaseConflictError``: a heuristic over the error, its ``orig`` (SQLAlchemy
    wraps driver errors) and its causes, so it works for raw driver errors too.
    """
    seen: set[int] = set()
    current: object = error
    while isinstance(current, BaseException) and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "sqlstate", None) == "23505" or _CONFLICT_PATTERN.search(
            f"{type(current).__name__}: {current}"
        ):
            return True
        current = getattr(current, "orig", None) or current.__cause__
    return False
