"""The database service through a real backend: SQLite, PostgreSQL (both divisions), MySQL."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from backstage_runtime import core_services, create_backend_plugin
from backstage_runtime.api.errors import BackendStartupError
from backstage_runtime.api.services.database import is_database_conflict_error
from backstage_runtime.defaults.database import (
    DatabaseShutDownError,
    DatabaseUnavailableError,
    database_service_factory,
)
from backstage_runtime.testing import start_test_backend

from ._support import COUNTER_MIGRATIONS, count_events, database_plugin, table_names

pytestmark = pytest.mark.anyio


def backend_config(database: dict[str, Any]) -> dict[str, Any]:
    return {"backend": {"database": database}}


async def test_connections_of_one_plugin_share_its_tables(database_config: dict[str, Any]) -> None:
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[database_service_factory(), database_plugin("todo", seen=seen)],
        config=backend_config(database_config),
    ):
        database = seen["todo"]
        engine = await database.get_client()
        assert await database.get_client() is engine
        async with database.connect() as conn:
            await conn.execute(text("CREATE TABLE todos (title VARCHAR(50))"))
            await conn.commit()
        async with database.begin() as conn:
            await conn.execute(text("INSERT INTO todos VALUES ('write docs')"))
        async with database.session() as session:
            titles = (await session.execute(text("SELECT title FROM todos"))).scalars().all()
        assert titles == ["write docs"]


async def test_a_failed_transaction_is_rolled_back(database_config: dict[str, Any]) -> None:
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[database_service_factory(), database_plugin("todo", seen=seen)],
        config=backend_config(database_config),
    ):
        database = seen["todo"]
        async with database.begin() as conn:
            await conn.execute(text("CREATE TABLE todos (title VARCHAR(50))"))

        async def insert_then_fail() -> None:
            async with database.begin() as conn:
                await conn.execute(text("INSERT INTO todos VALUES ('lost')"))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            await insert_then_fail()
        async with database.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM todos"))).scalar_one() == 0


async def test_two_plugins_never_see_each_others_tables(database_config: dict[str, Any]) -> None:
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[
            database_service_factory(),
            database_plugin("alpha", seen=seen),
            database_plugin("beta", seen=seen),
        ],
        config=backend_config(database_config),
    ):
        alpha = await seen["alpha"].get_client()
        beta = await seen["beta"].get_client()
        assert alpha is not beta
        async with alpha.begin() as conn:
            await conn.execute(text("CREATE TABLE secrets (value VARCHAR(20))"))
            await conn.execute(text("INSERT INTO secrets VALUES ('alpha only')"))
        assert "secrets" in await table_names(alpha)
        assert "secrets" not in await table_names(beta)
        with pytest.raises(DBAPIError):
            async with beta.connect() as conn:
                await conn.execute(text("SELECT value FROM secrets"))
        # And the other way round: beta's own table of the same name is beta's alone.
        async with beta.begin() as conn:
            await conn.execute(text("CREATE TABLE secrets (value VARCHAR(20))"))
        async with beta.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM secrets"))).scalar_one() == 0


async def test_migrations_run_at_init(database_config: dict[str, Any]) -> None:
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[
            database_service_factory(),
            database_plugin("counter", migrations=COUNTER_MIGRATIONS, seen=seen),
        ],
        config=backend_config(database_config),
    ):
        engine = await seen["counter"].get_client()
        assert await count_events(engine) == 1
        assert "counter_alembic_version" in await table_names(engine)
        async with engine.connect() as conn:
            version = await conn.execute(text("SELECT version_num FROM counter_alembic_version"))
            assert version.scalars().all() == ["0002"]


async def test_migrating_again_applies_nothing(database_config: dict[str, Any]) -> None:
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[
            database_service_factory(),
            database_plugin("counter", migrations=COUNTER_MIGRATIONS, seen=seen),
        ],
        config=backend_config(database_config),
    ) as backend:
        database = seen["counter"]
        await database.migrate(COUNTER_MIGRATIONS)
        assert await count_events(await database.get_client()) == 1
        applied = [e for e in backend.logger.entries if "database migration" in e.message]
        assert len(applied) == 1
        assert applied[0].fields["revisions"] == ["0001", "0002"]


@pytest.mark.parametrize(
    ("section", "migrated"),
    [
        pytest.param({"skipMigrations": True}, False, id="base-skip"),
        pytest.param(
            {"skipMigrations": True, "plugin": {"counter": {"skipMigrations": False}}},
            True,
            id="plugin-override-wins",
        ),
        pytest.param({"plugin": {"counter": {"skipMigrations": True}}}, False, id="plugin-skip"),
    ],
)
async def test_skip_migrations_config(
    database_config: dict[str, Any], section: dict[str, Any], migrated: bool
) -> None:
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[
            database_service_factory(),
            database_plugin("counter", migrations=COUNTER_MIGRATIONS, seen=seen),
        ],
        config=backend_config({**database_config, **section}),
    ):
        database = seen["counter"]
        assert database.skip_migrations is (not migrated)
        assert database.migrations.skip is (not migrated)
        assert ("events" in await table_names(await database.get_client())) is migrated


async def test_the_factory_option_overrides_skip_migrations(
    database_config: dict[str, Any],
) -> None:
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[
            database_service_factory(skip_migrations=True),
            database_plugin("counter", migrations=COUNTER_MIGRATIONS, seen=seen),
        ],
        config=backend_config({**database_config, "skipMigrations": False}),
    ):
        assert "events" not in await table_names(await seen["counter"].get_client())


async def test_engines_are_disposed_when_the_backend_stops(
    database_config: dict[str, Any],
) -> None:
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[database_service_factory(), database_plugin("todo", seen=seen)],
        config=backend_config(database_config),
    ):
        database = seen["todo"]
        engine = await database.get_client()
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        pool = engine.pool
        assert pool.checkedin() == 1
    # dispose() closes the pooled connections and swaps in a fresh, empty pool.
    assert engine.pool is not pool
    assert pool.checkedin() == 0
    with pytest.raises(DatabaseShutDownError, match="'todo'"):
        await database.get_client()


async def test_plugins_can_use_their_database_in_shutdown_hooks(
    database_config: dict[str, Any],
) -> None:
    counted: list[int] = []

    def register(env: Any) -> None:
        async def init(*, database: Any, lifecycle: Any) -> None:
            async with database.begin() as conn:
                await conn.execute(text("CREATE TABLE t (x INTEGER)"))

            async def on_shutdown() -> None:
                async with database.connect() as conn:
                    counted.append((await conn.execute(text("SELECT count(*) FROM t"))).scalar())

            lifecycle.add_shutdown_hook(on_shutdown)

        env.register_init(
            deps={"database": core_services.database, "lifecycle": core_services.lifecycle},
            init=init,
        )

    async with start_test_backend(
        features=[
            database_service_factory(),
            create_backend_plugin(plugin_id="todo", register=register),
        ],
        config=backend_config(database_config),
    ) as backend:
        pass
    assert counted == [0], backend.logger.entries


async def test_a_busy_pool_times_out_after_acquire_timeout(
    database_config: dict[str, Any],
) -> None:
    pool = {"max": 1, "acquireTimeoutMillis": 50}
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[database_service_factory(), database_plugin("todo", seen=seen)],
        config=backend_config({**database_config, "knexConfig": {"pool": pool}}),
    ):
        engine = await seen["todo"].get_client()
        assert engine.pool.size() == 1
        async with engine.connect() as held:
            await held.execute(text("SELECT 1"))
            with pytest.raises(DatabaseUnavailableError) as caught:
                async with engine.connect():
                    pass
    assert str(caught.value) == (
        "The database of plugin 'todo' is unavailable: no free connection within 0.05 s "
        "(all 1 in use)"
    )
    assert isinstance(caught.value.__cause__, PoolTimeoutError)


async def test_a_waiting_checkout_gets_the_connection_once_released(
    database_config: dict[str, Any],
) -> None:
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[database_service_factory(), database_plugin("todo", seen=seen)],
        config=backend_config({**database_config, "knexConfig": {"pool": {"max": 1}}}),
    ):
        engine = await seen["todo"].get_client()
        counts: list[int] = []

        async def second() -> None:
            async with engine.connect() as conn:
                counts.append((await conn.execute(text("SELECT count(*) FROM t"))).scalar_one())

        async with anyio.create_task_group() as group, engine.connect() as first:
            await first.execute(text("CREATE TABLE t (x INTEGER)"))
            await first.execute(text("INSERT INTO t VALUES (1)"))
            await first.commit()
            group.start_soon(second)
            # Every task is now blocked: the second one in the pool, waiting for ours.
            await anyio.wait_all_tasks_blocked()
            assert counts == []
        # For in-memory SQLite this also shows the waiting checkout got the same database.
        assert counts == [1]


async def test_pool_min_opens_connections_up_front(database_config: dict[str, Any]) -> None:
    # A SQLite pool holds one connection; the servers can show several opened up front.
    in_memory = database_config["client"] == "better-sqlite3"
    pool = {"min": 1, "max": 1} if in_memory else {"min": 2, "max": 4}
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[database_service_factory(), database_plugin("todo", seen=seen)],
        config=backend_config({**database_config, "knexConfig": {"pool": pool}}),
    ):
        engine = await seen["todo"].get_client()
        assert engine.pool.size() == pool["max"]
        assert engine.pool.checkedin() == pool["min"]


async def test_a_config_error_fails_the_plugin_start_naming_the_key() -> None:
    with pytest.raises(BackendStartupError) as caught:
        async with start_test_backend(
            features=[database_service_factory(), database_plugin("todo")],
            config=backend_config({"client": "mongodb", "connection": "mongodb://x"}),
        ):
            pass
    text_of_error = repr(caught.value.errors)
    assert "backend.database.client" in text_of_error
    assert "mongodb" in text_of_error


async def test_unique_violations_are_recognised_as_conflicts(
    database_config: dict[str, Any],
) -> None:
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[database_service_factory(), database_plugin("todo", seen=seen)],
        config=backend_config(database_config),
    ):
        database = seen["todo"]
        async with database.begin() as conn:
            await conn.execute(text("CREATE TABLE unique_ids (id INTEGER PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO unique_ids VALUES (1)"))
        errors: list[DBAPIError] = []
        for sql in ("INSERT INTO unique_ids VALUES (1)", "INSERT INTO missing VALUES (1)"):
            try:
                async with database.begin() as conn:
                    await conn.execute(text(sql))
            except DBAPIError as error:
                errors.append(error)
        assert [is_database_conflict_error(error) for error in errors] == [True, False]
        assert is_database_conflict_error(errors[0].orig)
        assert not is_database_conflict_error(ValueError("unique constraint"))
