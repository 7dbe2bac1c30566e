"""Fixtures of the scheduler tests: the databases global tasks run on."""

from __future__ import annotations

from typing import Any

import pytest

from backstage_runtime.testing import TestDatabases


@pytest.fixture(params=["SQLITE_3", "POSTGRES", "MYSQL_8"], ids=["sqlite", "postgres", "mysql"])
async def database(request: Any, test_databases: TestDatabases) -> dict[str, Any]:
    """A ``backend.database`` config on each engine (dropped afterwards)."""
    config: dict[str, Any] = await test_databases.backend_config(request.param)
    return config


@pytest.fixture(params=["POSTGRES", "MYSQL_8"], ids=["postgres", "mysql"])
async def shared(request: Any, test_databases: TestDatabases) -> dict[str, Any]:
    """A ``backend.database`` config on each server (several backends may share it)."""
    config: dict[str, Any] = await test_databases.backend_config(request.param)
    return config
