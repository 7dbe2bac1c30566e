"""Fixtures of the scheduler tests: the databases global tasks run on."""

from __future__ import annotations

from typing import Any

import pytest

from backstage_runtime.testing import TestDatabases


@pytest.fixture(params=["SQLITE_3", "POSTGRES"], ids=["sqlite", "postgres"])
async def database(request: Any, test_databases: TestDatabases) -> dict[str, Any]:
    """A ``backend.database`` config on each engine (dropped afterwards)."""
    config: dict[str, Any] = await test_databases.backend_config(request.param)
    return config


@pytest.fixture
async def postgres(test_databases: TestDatabases) -> dict[str, Any]:
    """A PostgreSQL ``backend.database`` config (several backends may share it)."""
    config: dict[str, Any] = await test_databases.backend_config("POSTGRES")
    return config
