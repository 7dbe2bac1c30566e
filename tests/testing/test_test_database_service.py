"""``TestDatabases.init_service``: the database service a plugin gets, on a fresh test database
of every engine, without a backend (Backstage's ``mockServices.database({ knex })``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from backstage_runtime import DatabaseService
from backstage_runtime.defaults.database import DatabaseShutDownError
from backstage_runtime.testing import MockRootLogger, TestDatabaseId, TestDatabases

pytestmark = pytest.mark.anyio

ENGINES = TestDatabases.each_supported_id()

_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "0001_notes"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("text", sa.String(100), nullable=False),
    )
"""


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    """An Alembic script folder with one revision creating ``notes``."""
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "0001_notes.py").write_text(_REVISION)
    return versions.parent


async def _tables(database: DatabaseService) -> set[str]:
    def names(connection: object) -> set[str]:
        return set(inspect(connection).get_table_names())

    async with database.connect() as conn:
        return await conn.run_sync(names)


async def _current_database(database: DatabaseService, database_id: str) -> str:
    query = (
        "SELECT current_database()" if database_id.startswith("POSTGRES") else "SELECT DATABASE()"
    )
    async with database.connect() as conn:
        return str((await conn.execute(text(query))).scalar_one())


@pytest.mark.parametrize("database_id", ENGINES)
async def test_the_service_migrates_and_serves_the_plugins_database(
    database_id: TestDatabaseId, test_databases: TestDatabases, migrations: Path
) -> None:
    logger = MockRootLogger(level="info")
    database = await test_databases.init_service(database_id, plugin_id="notes", logger=logger)

    await database.migrate(migrations)
    async with database.begin() as conn:
        await conn.execute(text("INSERT INTO notes (id, text) VALUES (1, 'ünïcode')"))
    engine = await database.get_client()
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id, text FROM notes"))).all()

    assert [tuple(row) for row in rows] == [(1, "ünïcode")]
    assert await _tables(database) == {"notes", "notes_alembic_version"}
    assert database.migrations.skip is False
    assert "Applied 1 database migration(s)" in logger.messages()


@pytest.mark.parametrize("database_id", ENGINES)
async def test_each_service_is_a_new_empty_database(
    database_id: TestDatabaseId, test_databases: TestDatabases, migrations: Path
) -> None:
    first = await test_databases.init_service(database_id, plugin_id="notes")
    await first.migrate(migrations)
    second = await test_databases.init_service(database_id, plugin_id="notes")

    assert await _tables(second) == set()
    assert await _tables(first) == {"notes", "notes_alembic_version"}


@pytest.mark.parametrize("database_id", ENGINES)
async def test_skip_migrations_makes_migrate_a_no_op(
    database_id: TestDatabaseId, test_databases: TestDatabases, migrations: Path
) -> None:
    database = await test_databases.init_service(database_id, skip_migrations=True)

    await database.migrate(migrations)

    assert database.skip_migrations is True
    assert database.migrations.skip is True
    assert await _tables(database) == set()


@pytest.mark.parametrize("database_id", [i for i in ENGINES if i != "SQLITE_3"])
async def test_close_disposes_the_service_and_drops_its_database(
    database_id: TestDatabaseId,
) -> None:
    databases = TestDatabases.create()
    database = await databases.init_service(database_id, plugin_id="notes")
    name = await _current_database(database, database_id)
    server = databases.postgres_url if database_id == "POSTGRES" else databases.mysql_url

    await databases.close()

    with pytest.raises(DatabaseShutDownError, match="plugin 'notes' is closed"):
        await database.get_client()
    admin = create_async_engine(server, poolclass=NullPool)
    try:
        query = (
            "SELECT count(*) FROM pg_database WHERE datname = :name"
            if database_id == "POSTGRES"
            else "SELECT count(*) FROM information_schema.schemata WHERE schema_name = :name"
        )
        async with admin.connect() as conn:
            assert (await conn.execute(text(query), {"name": name})).scalar_one() == 0
    finally:
        await admin.dispose()


async def test_sqlite_services_are_closed_too() -> None:
    databases = TestDatabases.create(["SQLITE_3"])
    database = await databases.init_service("SQLITE_3")
    await database.get_client()

    await databases.close()

    with pytest.raises(DatabaseShutDownError, match="plugin 'test' is closed"):
        await database.get_client()


@pytest.mark.parametrize("database_id", [i for i in ENGINES if i == "POSTGRES"])
async def test_schema_mode_puts_the_plugin_in_a_schema_of_its_own(
    database_id: TestDatabaseId, test_databases: TestDatabases, migrations: Path
) -> None:
    database = await test_databases.init_service(
        database_id, plugin_id="notes", division_mode="schema"
    )
    await database.migrate(migrations)

    async with database.connect() as conn:
        schema = (await conn.execute(text("SELECT current_schema()"))).scalar_one()
    assert schema == "notes"
    assert await _tables(database) == {"notes", "notes_alembic_version"}


async def test_an_engine_without_schema_mode_is_refused(test_databases: TestDatabases) -> None:
    with pytest.raises(ValueError, match="SQLite only supports the 'database' plugin division"):
        await test_databases.init_service("SQLITE_3", division_mode="schema")


async def test_an_id_outside_the_instance_is_refused() -> None:
    async with TestDatabases.create(["SQLITE_3"]) as databases:
        with pytest.raises(ValueError, match="Database id 'POSTGRES' is not among"):
            await databases.init_service("POSTGRES")
