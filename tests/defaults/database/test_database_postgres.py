"""PostgreSQL specifics: creating databases and schemas, roles, application names, TLS."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from backstage_runtime import create_backend_plugin
from backstage_runtime.api.errors import BackendStartupError
from backstage_runtime.defaults.database import database_service_factory
from backstage_runtime.testing import start_test_backend
from backstage_runtime.testing._databases import TestDatabases

from ._support import database_plugin, table_names

pytestmark = pytest.mark.anyio


@pytest.fixture
async def admin(test_databases: TestDatabases) -> AsyncIterator[AsyncEngine]:
    """An autocommit engine on the server's ``postgres`` database."""
    await test_databases.backend_config("POSTGRES")  # skips (or fails on CI) when unreachable
    engine = create_async_engine(
        test_databases.postgres_url, poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    yield engine
    await engine.dispose()


async def scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar()


async def database_exists(admin: AsyncEngine, name: str) -> bool:
    return bool(await scalar(admin, "SELECT count(*) FROM pg_database WHERE datname = :n", n=name))


async def touch(database: Any) -> None:
    """Connect once (engines are created lazily)."""
    await table_names(await database.get_client())


def with_database(config: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {"backend": {"database": {**config, **changes}}}


async def test_ensure_exists_creates_the_plugin_database(
    postgres_config: dict[str, Any], admin: AsyncEngine
) -> None:
    name = f"{postgres_config['prefix']}my-plugin"
    assert not await database_exists(admin, name)
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[database_service_factory(), database_plugin("my-plugin", seen=seen)],
        config=with_database(postgres_config),
    ):
        engine = await seen["my-plugin"].get_client()
        assert await scalar(engine, "SELECT current_database()") == name
    assert await database_exists(admin, name)


async def test_the_base_connection_database_is_ignored_in_database_mode(
    postgres_config: dict[str, Any], test_databases: TestDatabases
) -> None:
    shared = await test_databases.create_postgres_database()
    config = {
        **postgres_config,
        "connection": {**postgres_config["connection"], "database": shared},
    }
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[database_service_factory(), database_plugin("todo", seen=seen)],
        config=with_database(config),
    ):
        engine = await seen["todo"].get_client()
        assert await scalar(engine, "SELECT current_database()") == f"{config['prefix']}todo"


async def test_a_plugin_connection_database_is_used_as_given(
    postgres_config: dict[str, Any], test_databases: TestDatabases
) -> None:
    own = await test_databases.create_postgres_database()
    config = {**postgres_config, "plugin": {"todo": {"connection": {"database": own}}}}
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[database_service_factory(), database_plugin("todo", seen=seen)],
        config=with_database(config),
    ):
        engine = await seen["todo"].get_client()
        assert await scalar(engine, "SELECT current_database()") == own


async def test_without_ensure_exists_a_missing_database_fails_the_start(
    postgres_config: dict[str, Any], admin: AsyncEngine
) -> None:
    with pytest.raises(BackendStartupError) as caught:
        async with start_test_backend(
            features=[database_service_factory(), database_plugin("todo", then=touch)],
            config=with_database(postgres_config, ensureExists=False),
        ):
            pass
    assert "does not exist" in repr(caught.value.errors)
    assert not await database_exists(admin, f"{postgres_config['prefix']}todo")


async def test_schema_mode_creates_one_schema_per_plugin(
    test_databases: TestDatabases,
) -> None:
    config = await test_databases.backend_config("POSTGRES", division_mode="schema")
    config["schemaPrefix"] = "bs_"
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[
            database_service_factory(),
            database_plugin("alpha", seen=seen),
            database_plugin("beta", seen=seen),
        ],
        config=with_database(config),
    ):
        alpha = await seen["alpha"].get_client()
        beta = await seen["beta"].get_client()
        assert await scalar(alpha, "SELECT current_database()") == config["connection"]["database"]
        assert await scalar(beta, "SELECT current_database()") == config["connection"]["database"]
        assert await scalar(alpha, "SELECT current_schema()") == "bs_alpha"
        assert await scalar(beta, "SELECT current_schema()") == "bs_beta"
        async with alpha.begin() as conn:
            await conn.execute(text("CREATE TABLE items (id INTEGER)"))
        located = await scalar(
            beta, "SELECT table_schema FROM information_schema.tables WHERE table_name = 'items'"
        )
        assert located == "bs_alpha"


async def test_schema_mode_without_ensure_leaves_the_schema_missing(
    test_databases: TestDatabases,
) -> None:
    config = await test_databases.backend_config("POSTGRES", division_mode="schema")
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[database_service_factory(), database_plugin("todo", seen=seen)],
        config=with_database(config, ensureExists=False),
    ):
        engine = await seen["todo"].get_client()
        assert await scalar(engine, "SELECT count(*) FROM pg_namespace WHERE nspname = 'todo'") == 0


@pytest.mark.parametrize(
    "flags",
    [
        pytest.param({"ensureSchemaExists": True}, id="base"),
        pytest.param({"plugin": {"todo": {"getEnsureSchemaExistsConfig": True}}}, id="odd-key"),
        pytest.param({"plugin": {"todo": {"ensureSchemaExists": True}}}, id="plugin"),
    ],
)
async def test_ensure_schema_exists_creates_the_schema(
    test_databases: TestDatabases, flags: dict[str, Any]
) -> None:
    config = await test_databases.backend_config("POSTGRES", division_mode="schema")
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[database_service_factory(), database_plugin("todo", seen=seen)],
        config=with_database(config, ensureExists=False, **flags),
    ):
        engine = await seen["todo"].get_client()
        assert await scalar(engine, "SELECT current_schema()") == "todo"


async def test_connections_carry_the_application_name_and_close_at_stop(
    postgres_config: dict[str, Any], admin: AsyncEngine
) -> None:
    seen: dict[str, Any] = {}
    config = with_database(postgres_config, knexConfig={"pool": {"min": 2, "max": 3}})
    database = f"{postgres_config['prefix']}todo"
    count_sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = :d AND application_name = :a"
    async with start_test_backend(
        features=[database_service_factory(), database_plugin("todo", seen=seen)],
        config=config,
    ):
        await seen["todo"].get_client()
        assert await scalar(admin, count_sql, d=database, a="backstage_plugin_todo") == 2
    assert await scalar(admin, count_sql, d=database, a="backstage_plugin_todo") == 0


async def test_role_is_set_on_every_connection_and_owns_the_schema() -> None:
    role = f"bst_role_{uuid.uuid4().hex[:10]}"
    async with TestDatabases.create(["POSTGRES"]) as databases:
        config = await databases.backend_config("POSTGRES", division_mode="schema")
        admin = create_async_engine(
            databases.postgres_url, poolclass=NullPool, isolation_level="AUTOCOMMIT"
        )
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE ROLE "{role}" NOLOGIN'))
            await conn.execute(
                text(f'GRANT CREATE ON DATABASE "{config["connection"]["database"]}" TO "{role}"')
            )
        try:
            seen: dict[str, Any] = {}
            async with start_test_backend(
                features=[database_service_factory(), database_plugin("todo", seen=seen)],
                config=with_database(config, role=role, knexConfig={"pool": {"max": 2}}),
            ):
                engine = await seen["todo"].get_client()
                async with engine.connect() as one, engine.connect() as two:
                    for conn in (one, two):
                        assert (await conn.execute(text("SELECT current_user"))).scalar() == role
                owner = await scalar(
                    engine,
                    "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'todo'",
                )
                assert owner == role
        finally:
            await databases.close()
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
            await admin.dispose()


async def test_a_plugin_that_never_asks_gets_no_database(
    postgres_config: dict[str, Any], admin: AsyncEngine
) -> None:
    def register(env: Any) -> None:
        env.register_init(deps={}, init=lambda: None)

    async with start_test_backend(
        features=[
            database_service_factory(),
            create_backend_plugin(plugin_id="nodb", register=register),
        ],
        config=with_database(postgres_config),
    ):
        assert not await database_exists(admin, f"{postgres_config['prefix']}nodb")


async def test_ssl_setting_reaches_the_driver(
    postgres_config: dict[str, Any], admin: AsyncEngine
) -> None:
    if await scalar(admin, "SHOW ssl") == "on":
        pytest.skip("the test server accepts TLS; this test needs one that refuses it")
    connection = {**postgres_config["connection"], "ssl": "require"}
    with pytest.raises(BackendStartupError) as caught:
        async with start_test_backend(
            features=[database_service_factory(), database_plugin("todo", then=touch)],
            config=with_database({**postgres_config, "connection": connection}),
        ):
            pass
    assert "Failed to connect to the database to make sure that" in repr(caught.value.errors)
    assert "SSL" in repr(caught.value.errors)


async def test_a_connection_string_works_like_the_object_form(
    postgres_config: dict[str, Any], test_databases: TestDatabases
) -> None:
    url = test_databases.postgres_url.set(drivername="postgresql", database="ignored")
    config = {**postgres_config, "connection": url.render_as_string(hide_password=False)}
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[database_service_factory(), database_plugin("todo", seen=seen)],
        config=with_database(config),
    ):
        engine = await seen["todo"].get_client()
        assert await scalar(engine, "SELECT current_database()") == f"{config['prefix']}todo"
