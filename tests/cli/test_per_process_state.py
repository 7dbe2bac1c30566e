"""Which configurations keep state in one process (and so refuse several workers)."""

from __future__ import annotations

from typing import Any

import pytest

from backstage_runtime.cli._shared_state import per_process_state
from backstage_runtime.defaults.root_config import create_config_from_data

SHARED_CACHE = {"cache": {"store": "redis", "redis": {"connection": "redis://127.0.0.1:6379"}}}


def _reasons(backend: dict[str, Any]) -> list[str]:
    return per_process_state(create_config_from_data({"backend": backend}))


def test_the_embedded_defaults_are_per_process() -> None:
    reasons = _reasons({})
    assert [reason.split(" ", 1)[0] for reason in reasons] == [
        "backend.database",
        "backend.cache.store",
    ]


@pytest.mark.parametrize(
    "database",
    [
        {"client": "pg", "connection": "postgresql://postgres@127.0.0.1/postgres"},
        {"client": "mysql2", "connection": {"host": "127.0.0.1", "user": "root"}},
        {"client": "better-sqlite3", "connection": {"directory": "/var/lib/backstage"}},
        {"client": "better-sqlite3", "connection": {"filename": "/var/lib/backstage/all.sqlite"}},
    ],
)
def test_shared_databases_and_caches_pass(database: dict[str, Any]) -> None:
    assert _reasons({"database": database, **SHARED_CACHE}) == []


@pytest.mark.parametrize(
    "database",
    [
        {"client": "better-sqlite3"},
        {"client": "better-sqlite3", "connection": ":memory:"},
        {"client": "sqlite3", "connection": {"filename": ":memory:"}},
    ],
)
def test_in_memory_sqlite_is_per_process(database: dict[str, Any]) -> None:
    assert _reasons({"database": database, **SHARED_CACHE}) == [
        "backend.database.connection is an in-memory SQLite database"
    ]


def test_one_plugin_on_in_memory_sqlite_is_named() -> None:
    database = {
        "client": "pg",
        "connection": "postgresql://postgres@127.0.0.1/postgres",
        "plugin": {"catalog": {"client": "better-sqlite3", "connection": ":memory:"}},
    }
    assert _reasons({"database": database, **SHARED_CACHE}) == [
        "backend.database.plugin.catalog is an in-memory SQLite database"
    ]


def test_the_memory_cache_is_per_process() -> None:
    database = {"client": "pg", "connection": "postgresql://postgres@127.0.0.1/postgres"}
    assert _reasons({"database": database, "cache": {"store": "memory"}}) == [
        "backend.cache.store is the in-memory cache"
    ]
