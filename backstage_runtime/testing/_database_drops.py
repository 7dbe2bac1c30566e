"""Creating and dropping the databases of ``TestDatabases`` on PostgreSQL and MySQL."""

from __future__ import annotations

import contextlib

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "DROPS",
    "LIST_DATABASES",
    "MYSQL_QUOTE",
    "PG_QUOTE",
    "drop_mysql_database",
    "drop_postgres_database",
    "quote_name",
]

#: Names starting with :p (LIKE would treat the prefix's "_" as a wildcard).
LIST_DATABASES = {
    "POSTGRES": "SELECT datname FROM pg_database WHERE left(datname, length(:p)) = :p",
    "MYSQL_8": (
        "SELECT schema_name FROM information_schema.schemata "
        "WHERE LEFT(schema_name, CHAR_LENGTH(:p)) = :p"
    ),
}


async def drop_postgres_database(conn: AsyncConnection, name: str) -> None:
    """Drop the PostgreSQL database ``name`` (if it exists), ending its sessions first."""
    # Engines a test forgot to dispose would keep the database busy: end their sessions.
    await conn.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()"
        ),
        {"name": name},
    )
    await conn.execute(text(f"DROP DATABASE IF EXISTS {quote_name(name, PG_QUOTE)}"))


async def drop_mysql_database(conn: AsyncConnection, name: str) -> None:
    """Drop the MySQL database ``name`` (if it exists), killing its sessions first."""
    # A forgotten session in a transaction would hold a metadata lock and block DROP forever.
    sessions = await conn.execute(
        text(
            "SELECT id FROM information_schema.processlist "
            "WHERE db = :name AND id <> CONNECTION_ID()"
        ),
        {"name": name},
    )
    for session in sessions.scalars().all():
        with contextlib.suppress(DBAPIError):  # it may have ended on its own meanwhile
            await conn.execute(text(f"KILL {int(session)}"))
    await conn.execute(text(f"DROP DATABASE IF EXISTS {quote_name(name, MYSQL_QUOTE)}"))


PG_QUOTE, MYSQL_QUOTE = '"', "`"


def quote_name(name: str, quote: str) -> str:
    """``name`` between ``quote`` characters, inner ones doubled."""
    # Names come from prefixes found on the server, possibly built by hand: quote them.
    return quote + name.replace(quote, quote * 2) + quote


DROPS = {"POSTGRES": drop_postgres_database, "MYSQL_8": drop_mysql_database}
