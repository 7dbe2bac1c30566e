"""MySQL specifics on a real server: creating databases, overrides, TLS, connection strings."""

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
async def admin(
    mysql_config: dict[str, Any], test_databases: TestDatabases
) -> AsyncIterator[AsyncEngine]:
    """An autocommit engine on the MySQL server, no default database."""
    engine = create_async_engine(
        test_databases.mysql_url, poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    yield engine
    await engine.dispose()


async def scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar()


async def database_exists(admin: AsyncEngine, name: str) -> bool:
    sql = "SELECT count(*) FROM information_schema.schemata WHERE schema_name = :n"
    return bool(await scalar(admin, sql, n=name))


async def touch(database: Any) -> None:
    """Connect once (engines are created lazily)."""
    await table_names(await database.get_client())


def with_database(config: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {"backend": {"database": {**config, **changes}}}


async def test_ensure_exists_creates_the_plugin_database(
    mysql_config: dict[str, Any], admin: AsyncEngine
) -> None:
    # A backtick and a dash: the name must be quoted, never spliced in as it is.
    plugin_id = "my-plugin"
    prefix = mysql_config["prefix"] + "q`"
    name = f"{prefix}{plugin_id}"
    assert not await database_exists(admin, name)
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[database_service_factory(), database_plugin(plugin_id, seen=seen)],
        config=with_database(mysql_config, prefix=prefix),
    ):
        engine = await seen[plugin_id].get_client()
        assert await scalar(engine, "SELECT DATABASE()") == name
        assert await scalar(engine, "SELECT @@session.time_zone") == "+00:00"
    assert await database_exists(admin, name)


async def test_the_base_connection_database_is_ignored_and_a_plugin_one_is_used(
    mysql_config: dict[str, Any], test_databases: TestDatabases
) -> None:
    shared = await test_databases.create_mysql_database()
    own = await test_databases.create_mysql_database()
    config = {
        **mysql_config,
        "connection": {**mysql_config["connection"], "database": shared},
        "plugin": {"own": {"connection": {"database": own}}},
    }
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[
            database_service_factory(),
            database_plugin("todo", seen=seen),
            database_plugin("own", seen=seen),
        ],
        config=with_database(config),
    ):
        todo = await seen["todo"].get_client()
        assert await scalar(todo, "SELECT DATABASE()") == f"{config['prefix']}todo"
        assert await scalar(await seen["own"].get_client(), "SELECT DATABASE()") == own


async def test_without_ensure_exists_a_missing_database_fails_the_start(
    mysql_config: dict[str, Any], admin: AsyncEngine
) -> None:
    with pytest.raises(BackendStartupError) as caught:
        async with start_test_backend(
            features=[database_service_factory(), database_plugin("todo", then=touch)],
            config=with_database(mysql_config, ensureExists=False),
        ):
            pass
    assert "Unknown database" in repr(caught.value.errors)
    assert not await database_exists(admin, f"{mysql_config['prefix']}todo")


async def test_schema_division_fails_the_plugin_start_with_backstages_text(
    mysql_config: dict[str, Any],
) -> None:
    with pytest.raises(BackendStartupError) as caught:
        async with start_test_backend(
            features=[database_service_factory(), database_plugin("todo")],
            config=with_database(mysql_config, pluginDivisionMode="schema"),
        ):
            pass
    assert "does not support plugin division mode 'schema'" in repr(caught.value.errors)


async def test_a_plugin_that_never_asks_gets_no_database(
    mysql_config: dict[str, Any], admin: AsyncEngine
) -> None:
    def register(env: Any) -> None:
        env.register_init(deps={}, init=lambda: None)

    async with start_test_backend(
        features=[
            database_service_factory(),
            create_backend_plugin(plugin_id="nodb", register=register),
        ],
        config=with_database(mysql_config),
    ):
        assert not await database_exists(admin, f"{mysql_config['prefix']}nodb")


async def test_ssl_setting_reaches_the_driver(
    mysql_config: dict[str, Any], admin: AsyncEngine
) -> None:
    if await scalar(admin, "SELECT @@have_ssl") == "YES":
        pytest.skip("the test server accepts TLS; this test needs one that refuses it")
    connection = {**mysql_config["connection"], "ssl": {"rejectUnauthorized": False}}
    with pytest.raises(BackendStartupError) as caught:
        async with start_test_backend(
            features=[database_service_factory(), database_plugin("todo", then=touch)],
            config=with_database({**mysql_config, "connection": connection}),
        ):
            pass
    errors = repr(caught.value.errors)
    assert "Failed to connect to the database to make sure that" in errors
    assert "SSL" in errors


@pytest.fixture
async def mysql_user(
    mysql_config: dict[str, Any], admin: AsyncEngine
) -> AsyncIterator[tuple[str, str]]:
    """A user with a password, allowed to create the test config's plugin databases."""
    user, password = f"bst_{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
    pattern = mysql_config["prefix"].replace("_", r"\_") + "%"
    async with admin.connect() as conn:
        await conn.execute(text(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"))
        await conn.execute(text(f"GRANT ALL ON `{pattern}`.* TO '{user}'@'%'"))
    yield user, password
    async with admin.connect() as conn:
        await conn.execute(text(f"DROP USER IF EXISTS '{user}'@'%'"))


async def test_a_connection_string_works_like_the_object_form(
    mysql_config: dict[str, Any], test_databases: TestDatabases, mysql_user: tuple[str, str]
) -> None:
    user, password = mysql_user
    server = test_databases.mysql_url
    url = f"mysql://{user}:{password}@{server.host}:{server.port or 3306}/ignored"
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[database_service_factory(), database_plugin("todo", seen=seen)],
        config=with_database({**mysql_config, "connection": url}),
    ):
        engine = await seen["todo"].get_client()
        assert await scalar(engine, "SELECT DATABASE()") == f"{mysql_config['prefix']}todo"
        assert str(await scalar(engine, "SELECT CURRENT_USER()")).startswith(f"{user}@")


async def test_a_wrong_password_fails_without_showing_it(
    mysql_config: dict[str, Any], test_databases: TestDatabases, mysql_user: tuple[str, str]
) -> None:
    user, _password = mysql_user
    server = test_databases.mysql_url
    wrong = "not-the-password-" + uuid.uuid4().hex
    url = f"mysql://{user}:{wrong}@{server.host}:{server.port or 3306}/x"
    with pytest.raises(BackendStartupError) as caught:
        async with start_test_backend(
            features=[database_service_factory(), database_plugin("todo", then=touch)],
            config=with_database({**mysql_config, "connection": url}),
        ):
            pass
    errors = " ".join(str(error) for error in caught.value.errors)
    assert f"make sure that '{mysql_config['prefix']}todo' exists" in errors
    assert "Access denied" in errors
    assert wrong not in errors
