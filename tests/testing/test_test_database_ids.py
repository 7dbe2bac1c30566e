"""``TestDatabases``: Backstage's versioned PostgreSQL ids and connection-string variables."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from backstage_runtime.testing import TestDatabases

pytestmark = pytest.mark.anyio

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def no_versioned_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for version in (18, 17, 16, 15, 14, 13, 12, 11, 9):
        monkeypatch.delenv(f"BACKSTAGE_TEST_DATABASE_POSTGRES{version}_CONNECTION_STRING", False)
    return monkeypatch


def test_the_default_ids_are_always_listed(no_versioned_env: pytest.MonkeyPatch) -> None:
    assert TestDatabases.each_supported_id() == ["SQLITE_3", "POSTGRES", "MYSQL_8"]


def test_a_versioned_id_is_listed_where_its_variable_is_set(
    no_versioned_env: pytest.MonkeyPatch,
) -> None:
    no_versioned_env.setenv("BACKSTAGE_TEST_DATABASE_POSTGRES17_CONNECTION_STRING", LOCAL_POSTGRES)
    assert TestDatabases.each_supported_id() == ["SQLITE_3", "POSTGRES", "MYSQL_8", "POSTGRES_17"]
    assert TestDatabases.each_supported_id(["POSTGRES_16", "POSTGRES_17"]) == ["POSTGRES_17"]
    databases = TestDatabases.create()
    assert databases.supports("POSTGRES_17")
    assert not databases.supports("POSTGRES_16")


async def test_a_versioned_id_runs_on_the_server_its_variable_names(
    no_versioned_env: pytest.MonkeyPatch,
) -> None:
    # The local server stands in for whichever version the variable would name.
    no_versioned_env.setenv("BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING", LOCAL_POSTGRES)
    async with TestDatabases.create(["POSTGRES_15", "POSTGRES"]) as databases:
        engine = await databases.init("POSTGRES_15")
        async with engine.connect() as conn:
            name = (await conn.execute(text("SELECT current_database()"))).scalar_one()
        config = await databases.backend_config("POSTGRES_15")
        assert config["client"] == "pg"
        assert config["connection"]["port"] == 5432
        admin = await databases.init("POSTGRES")  # the same server, under the generic id
        async with admin.connect() as conn:
            names = (await conn.execute(text("SELECT datname FROM pg_database"))).scalars()
            assert name in set(names)
    async with TestDatabases.create(["POSTGRES"]) as probe:
        engine = await probe.init("POSTGRES")
        async with engine.connect() as conn:
            names = (await conn.execute(text("SELECT datname FROM pg_database"))).scalars()
            assert name not in set(names)


@pytest.mark.parametrize(
    ("ci", "outcome"), [("", pytest.skip.Exception), ("true", pytest.fail.Exception)]
)
async def test_a_versioned_id_without_its_variable_names_it(
    no_versioned_env: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    no_versioned_env.setenv("CI", ci)
    async with TestDatabases.create(["POSTGRES_16"]) as databases:
        with pytest.raises(outcome, match="BACKSTAGE_TEST_DATABASE_POSTGRES16_CONNECTION_STRING"):
            await databases.init("POSTGRES_16")


def test_unknown_ids_list_backstages() -> None:
    with pytest.raises(ValueError, match="POSTGRES_18, POSTGRES_17"):
        TestDatabases(["POSTGRES_10"])  # type: ignore[list-item]
