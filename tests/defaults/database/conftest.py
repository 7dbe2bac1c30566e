"""Fixtures of the database tests: the engines to run on, and their backend configs."""

from __future__ import annotations

from typing import Any

import pytest

from backstage_runtime.testing._databases import TestDatabases

#: (engine, plugin division mode): every way the service can divide plugins.
DIVISIONS = [
    pytest.param(("SQLITE_3", "database"), id="sqlite"),
    pytest.param(("POSTGRES", "database"), id="pg-database"),
    pytest.param(("POSTGRES", "schema"), id="pg-schema"),
    pytest.param(("MYSQL_8", "database"), id="mysql"),
]


@pytest.fixture(params=DIVISIONS)
async def database_config(request: Any, test_databases: TestDatabases) -> dict[str, Any]:
    """A ``backend.database`` config for each engine and division mode (dropped afterwards)."""
    database_id, mode = request.param
    return await test_databases.backend_config(database_id, division_mode=mode)


@pytest.fixture
async def postgres_config(test_databases: TestDatabases) -> dict[str, Any]:
    """A PostgreSQL ``backend.database`` config in database division mode."""
    return await test_databases.backend_config("POSTGRES")


@pytest.fixture
async def mysql_config(test_databases: TestDatabases) -> dict[str, Any]:
    """A MySQL ``backend.database`` config (database division, the only one MySQL has)."""
    return await test_databases.backend_config("MYSQL_8")
