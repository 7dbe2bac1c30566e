"""The engines ``TestDatabases`` knows: Backstage's ``TestDatabaseId`` values and variables.

Backstage names PostgreSQL by major version (``POSTGRES_17``, read from
``BACKSTAGE_TEST_DATABASE_POSTGRES17_CONNECTION_STRING``), MySQL as ``MYSQL_8`` and SQLite as
``SQLITE_3``. We add ``POSTGRES``: whichever PostgreSQL the machine runs, by default the local
one, so a plain checkout tests on PostgreSQL without naming its version.
"""

from __future__ import annotations

import os
from typing import Literal, get_args

__all__ = [
    "ALL_DATABASE_IDS",
    "MYSQL_CONNECTION_ENV",
    "POSTGRES_CONNECTION_ENV",
    "VERSIONED_POSTGRES_IDS",
    "TestDatabaseId",
    "check_id",
    "connection_env",
    "engine_of",
]

#: Every id ``TestDatabases`` accepts.
TestDatabaseId = Literal[
    "SQLITE_3",
    "POSTGRES",
    "MYSQL_8",
    "POSTGRES_18",
    "POSTGRES_17",
    "POSTGRES_16",
    "POSTGRES_15",
    "POSTGRES_14",
    "POSTGRES_13",
    "POSTGRES_12",
    "POSTGRES_11",
    "POSTGRES_9",
]
#: The ids with a default server (the local one), listed by ``each_supported_id`` always.
ALL_DATABASE_IDS: tuple[TestDatabaseId, ...] = ("SQLITE_3", "POSTGRES", "MYSQL_8")
#: Backstage's versioned PostgreSQL ids: a server only where their variable names one.
VERSIONED_POSTGRES_IDS: tuple[TestDatabaseId, ...] = tuple(
    i for i in get_args(TestDatabaseId) if i.startswith("POSTGRES_")
)
#: Where the ``POSTGRES`` server is; any database on it (the helper creates its own).
POSTGRES_CONNECTION_ENV = "BACKSTAGE_TEST_DATABASE_POSTGRES_CONNECTION_STRING"
#: Where the test MySQL/MariaDB server is (``mysql://user[:password]@host[:port]``).
MYSQL_CONNECTION_ENV = "BACKSTAGE_TEST_DATABASE_MYSQL8_CONNECTION_STRING"

Engine = Literal["SQLITE_3", "POSTGRES", "MYSQL_8"]


def check_id(database_id: str) -> None:
    """Raise :class:`ValueError` listing the known ids unless ``database_id`` is one."""
    if database_id not in get_args(TestDatabaseId):
        raise ValueError(
            f"Unknown test database id '{database_id}', expected one of "
            f"{', '.join(get_args(TestDatabaseId))}"
        )


def engine_of(database_id: str) -> Engine:
    """Which engine serves ``database_id``."""
    if database_id.startswith("POSTGRES"):
        return "POSTGRES"
    if database_id == "MYSQL_8":
        return "MYSQL_8"
    return "SQLITE_3"


def connection_env(database_id: str) -> str | None:
    """The variable naming ``database_id``'s server (None for SQLite), Backstage's
    ``BACKSTAGE_TEST_DATABASE_<ID without _>_CONNECTION_STRING`` for its ids.
    """
    if database_id == "POSTGRES":
        return POSTGRES_CONNECTION_ENV
    if engine_of(database_id) == "SQLITE_3":
        return None
    return f"BACKSTAGE_TEST_DATABASE_{database_id.replace('_', '')}_CONNECTION_STRING"


def configured(database_id: str) -> bool:
    """Whether ``database_id`` has a server: a default one, or its variable is set."""
    if database_id in ALL_DATABASE_IDS:
        return True
    env = connection_env(database_id)
    return bool(env and os.environ.get(env))
