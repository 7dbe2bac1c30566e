"""``TestDatabases`` and the ``mock_database`` helper of backstage_runtime.testing."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from backstage_runtime.defaults.database import database_service_factory
from backstage_runtime.testing import start_test_backend
from backstage_runtime.testing._databases import TestDatabases
from backstage_runtime.testing._mock_database import mock_database

from ._support import COUNTER_MIGRATIONS, count_events, database_plugin, table_names

pytestmark = pytest.mark.anyio


async def database_names(databases: TestDatabases) -> set[str]:
    admin = create_async_engine(databases.postgres_url, poolclass=NullPool)
    try:
        async with admin.connect() as conn:
            return set((await conn.execute(text("SELECT datname FROM pg_database"))).scalars())
    finally:
        await admin.dispose()


@pytest.mark.parametrize("database_id", TestDatabases.each_supported_id())
async def test_init_gives_a_fresh_database_each_time(
    database_id: Any, test_databases: TestDatabases
) -> None:
    first = await test_databases.init(database_id)
    second = await test_databases.init(database_id)
    async with first.begin() as conn:
        await conn.execute(text("CREATE TABLE only_in_first (x INTEGER)"))
    assert "only_in_first" in await table_names(first)
    assert "only_in_first" not in await table_names(second)


async def test_close_drops_every_postgres_database_it_created() -> None:
    databases = TestDatabases.create(["POSTGRES"])
    try:
        engine = await databases.init("POSTGRES")
        async with engine.connect() as conn:
            created = (await conn.execute(text("SELECT current_database()"))).scalar_one()
        config = await databases.backend_config("POSTGRES")
        async with start_test_backend(
            features=[database_service_factory(), database_plugin("todo", then=_touch)],
            config={"backend": {"database": config}},
        ):
            pass
        before = await database_names(databases)
        assert {created, f"{config['prefix']}todo"} <= before
    finally:
        await databases.close()
    after = await database_names(databases)
    assert created not in after
    assert f"{config['prefix']}todo" not in after


async def _touch(database: Any) -> None:
    await table_names(await database.get_client())


async def mysql_database_names(databases: TestDatabases) -> set[str]:
    admin = create_async_engine(databases.mysql_url, poolclass=NullPool)
    try:
        async with admin.connect() as conn:
            sql = "SELECT schema_name FROM information_schema.schemata"
            return set((await conn.execute(text(sql))).scalars())
    finally:
        await admin.dispose()


async def test_close_drops_every_mysql_database_it_created() -> None:
    databases = TestDatabases.create(["MYSQL_8"])
    try:
        engine = await databases.init("MYSQL_8")
        async with engine.connect() as conn:
            created = (await conn.execute(text("SELECT DATABASE()"))).scalar_one()
        config = await databases.backend_config("MYSQL_8")
        assert config["client"] == "mysql2"
        async with start_test_backend(
            features=[database_service_factory(), database_plugin("todo", then=_touch)],
            config={"backend": {"database": config}},
        ):
            pass
        # An engine the test forgot to dispose, inside a transaction: close() still drops it.
        leaked = create_async_engine(databases.mysql_url.set(database=created))
        leaked_conn = await leaked.connect()
        await leaked_conn.execute(text("CREATE TABLE held (x INTEGER)"))
        await leaked_conn.execute(text("SELECT * FROM held"))  # the open transaction locks it
        before = await mysql_database_names(databases)
        assert {created, f"{config['prefix']}todo"} <= before
    finally:
        await databases.close()
    after = await mysql_database_names(databases)
    assert created not in after
    assert f"{config['prefix']}todo" not in after
    await leaked_conn.invalidate()
    await leaked.dispose()


def test_mysql_comes_from_backstages_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "BACKSTAGE_TEST_DATABASE_MYSQL8_CONNECTION_STRING", "mysql://me:pw@db.example:3307/x"
    )
    databases = TestDatabases(["MYSQL_8"])
    assert databases.mysql_url.drivername == "mysql+aiomysql"
    assert databases.mysql_url.database is None
    assert databases.mysql_connection() == {
        "host": "db.example",
        "port": 3307,
        "user": "me",
        "password": "pw",
    }
    with pytest.raises(ValueError, match="only supports the 'database' plugin division mode"):
        anyio.run(lambda: databases.backend_config("MYSQL_8", division_mode="schema"))


def test_unknown_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="MYSQL_8"):
        TestDatabases(["ORACLE"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="not among"):
        TestDatabases(["SQLITE_3"])._check_supported("POSTGRES")


@pytest.mark.parametrize(
    ("ci", "outcome"), [("", pytest.skip.Exception), ("true", pytest.fail.Exception)]
)
async def test_an_unreachable_postgres_skips_locally_and_fails_on_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    databases = TestDatabases(postgres_url="postgresql://postgres@127.0.0.1:1/postgres")
    with pytest.raises(outcome, match="PostgreSQL is not reachable"):
        await databases.init("POSTGRES")
    await databases.close()


@pytest.mark.parametrize(
    ("ci", "outcome"), [("", pytest.skip.Exception), ("true", pytest.fail.Exception)]
)
async def test_an_unreachable_mysql_skips_locally_and_fails_on_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    databases = TestDatabases(mysql_url="mysql://root@127.0.0.1:1")
    with pytest.raises(outcome, match="MySQL is not reachable"):
        await databases.backend_config("MYSQL_8")
    await databases.close()


async def test_mock_database_is_a_private_in_memory_sqlite() -> None:
    async with mock_database("alpha") as alpha, mock_database("beta") as beta:
        assert alpha.plugin_id == "alpha"
        async with alpha.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        assert "t" in await table_names(await alpha.get_client())
        assert "t" not in await table_names(await beta.get_client())
        await alpha.migrate(COUNTER_MIGRATIONS)
        assert await count_events(await alpha.get_client()) == 1


async def test_mock_database_can_skip_migrations() -> None:
    async with mock_database(skip_migrations=True) as database:
        await database.migrate(COUNTER_MIGRATIONS)
        assert "events" not in await table_names(await database.get_client())


async def test_mock_database_factory_ignores_the_configured_database() -> None:
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[
            mock_database.factory(),
            database_plugin("counter", migrations=COUNTER_MIGRATIONS, seen=seen),
        ],
        # Unreachable on purpose: the mock factory must not even look at it.
        config={"backend": {"database": {"client": "pg", "connection": "postgresql://x:1"}}},
    ):
        engine = await seen["counter"].get_client()
        assert engine.dialect.name == "sqlite"
        assert await count_events(engine) == 1
