"""Plugin migrations: applied once, in order, even when several instances start together."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from backstage_runtime.api.errors import BackendStartupError
from backstage_runtime.defaults.database import database_service_factory
from backstage_runtime.defaults.database._migrations import (
    migration_lock_key,
    mysql_migration_lock_name,
)
from backstage_runtime.testing import start_test_backend
from backstage_runtime.testing._databases import TestDatabases

from ._support import (
    COUNTER_MIGRATIONS,
    MIGRATIONS,
    NOTES_MIGRATIONS,
    count_events,
    database_plugin,
    table_names,
)

pytestmark = pytest.mark.anyio

#: The servers (and division modes) where several instances share one plugin database.
SHARED = [
    pytest.param(("POSTGRES", "database"), id="pg-database"),
    pytest.param(("POSTGRES", "schema"), id="pg-schema"),
    pytest.param(("MYSQL_8", "database"), id="mysql"),
]


def counter_backend(database: dict[str, Any], seen: dict[str, Any] | None = None) -> Any:
    return start_test_backend(
        features=[
            database_service_factory(),
            database_plugin("counter", migrations=COUNTER_MIGRATIONS, seen=seen),
        ],
        config={"backend": {"database": database}},
    )


def plugin_engine(
    test_databases: TestDatabases, config: dict[str, Any], plugin_id: str
) -> AsyncEngine:
    """An engine of our own on the database (and schema) the service gives ``plugin_id``."""
    if config["client"] == "mysql2":
        url = test_databases.mysql_url.set(database=f"{config['prefix']}{plugin_id}")
        return create_async_engine(url, poolclass=NullPool)
    if config.get("pluginDivisionMode") == "schema":
        url = test_databases.postgres_url.set(database=config["connection"]["database"])
        args = {"server_settings": {"search_path": plugin_id}}
    else:
        url = test_databases.postgres_url.set(database=f"{config['prefix']}{plugin_id}")
        args = {}
    return create_async_engine(url, poolclass=NullPool, connect_args=args)


@pytest.mark.parametrize("shared", SHARED)
async def test_three_backends_starting_at_once_migrate_once(
    test_databases: TestDatabases, shared: Any
) -> None:
    database_id, mode = shared
    config = await test_databases.backend_config(database_id, division_mode=mode)
    started: list[int] = []
    all_started = anyio.Event()

    async def run_one(index: int, stop: anyio.Event) -> None:
        async with counter_backend(config):
            started.append(index)
            if len(started) == 3:
                all_started.set()
            await stop.wait()

    stop = anyio.Event()
    async with anyio.create_task_group() as group:
        for index in range(3):
            group.start_soon(run_one, index, stop)
        with anyio.fail_after(30):
            await all_started.wait()
        engine = plugin_engine(test_databases, config, "counter")
        try:
            assert await count_events(engine) == 1
        finally:
            await engine.dispose()
        stop.set()
    assert sorted(started) == [0, 1, 2]


@pytest.mark.parametrize("shared", SHARED)
async def test_three_processes_starting_at_once_migrate_once(
    test_databases: TestDatabases, shared: Any
) -> None:
    database_id, mode = shared
    config = await test_databases.backend_config(database_id, division_mode=mode)
    script = Path(__file__).with_name("_backend_process.py")
    processes = [
        await anyio.open_process([sys.executable, str(script), json.dumps(config)])
        for _ in range(3)
    ]
    codes: list[int] = []
    try:
        outputs = [_lines(process) for process in processes]
        with anyio.fail_after(60):
            for lines in outputs:
                assert await lines.__anext__() == "ready"
            # Release all three together: each was blocked reading this line.
            for process in processes:
                assert process.stdin is not None
                await process.stdin.send(b"go\n")
            results = [await lines.__anext__() for lines in outputs]
        assert results == ["started"] * 3
        engine = plugin_engine(test_databases, config, "counter")
        try:
            assert await count_events(engine) == 1
        finally:
            await engine.dispose()
    finally:
        for process in processes:
            if process.stdin is not None:
                await process.stdin.aclose()  # tells each backend to stop
        with anyio.move_on_after(60):
            codes = [await process.wait() for process in processes]
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert codes == [0, 0, 0]


async def _lines(process: Any) -> Any:
    buffer = b""
    assert process.stdout is not None
    async for chunk in process.stdout:
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield line.decode().strip()


async def test_a_second_instance_waits_for_the_migration_lock(
    test_databases: TestDatabases,
) -> None:
    config = await test_databases.backend_config("POSTGRES")
    database = f"{config['prefix']}counter"
    admin = create_async_engine(
        test_databases.postgres_url, poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{database}"'))
    await admin.dispose()
    other = plugin_engine(test_databases, config, "counter")
    key = migration_lock_key(None, "counter_alembic_version")
    started = anyio.Event()

    async def start_backend(stop: anyio.Event) -> None:
        async with counter_backend(config):
            started.set()
            await stop.wait()

    try:
        async with other.connect() as holder:
            await holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            await holder.commit()
            stop = anyio.Event()
            async with anyio.create_task_group() as group:
                group.start_soon(start_backend, stop)
                with anyio.fail_after(10):
                    # The waiter is inside PostgreSQL, which offers no event to wait on: poll.
                    while not await _someone_waits_for_advisory_lock(holder):  # noqa: ASYNC110
                        await anyio.sleep(0.01)
                assert not started.is_set()
                assert "events" not in await table_names(other)
                await holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await holder.commit()
                with anyio.fail_after(10):
                    await started.wait()
                assert await count_events(other) == 1
                stop.set()
    finally:
        await other.dispose()


async def _someone_waits_for_advisory_lock(conn: Any) -> bool:
    result = await conn.execute(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
    )
    await conn.commit()
    return bool(result.scalar())


async def test_a_failed_migration_rolls_back_and_releases_the_lock(
    test_databases: TestDatabases,
) -> None:
    config = await test_databases.backend_config("POSTGRES")
    with pytest.raises(BackendStartupError) as caught:
        async with start_test_backend(
            features=[
                database_service_factory(),
                database_plugin("broken", migrations=MIGRATIONS / "broken"),
            ],
            config={"backend": {"database": config}},
        ):
            pass
    assert "this migration is broken" in repr(caught.value.errors)
    engine = plugin_engine(test_databases, config, "broken")
    try:
        assert "half_done" not in await table_names(engine)
        async with engine.connect() as conn:
            key = migration_lock_key(None, "broken_alembic_version")
            got = await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
            assert got.scalar() is True
    finally:
        await engine.dispose()


async def test_migrations_are_not_applied_again_after_a_restart(
    tmp_path: Path, test_databases: TestDatabases
) -> None:
    for config in (
        {"client": "better-sqlite3", "connection": {"directory": str(tmp_path)}},
        await test_databases.backend_config("POSTGRES"),
        await test_databases.backend_config("MYSQL_8"),
    ):
        for run in range(2):
            seen: dict[str, Any] = {}
            async with counter_backend(config, seen) as backend:
                assert await count_events(await seen["counter"].get_client()) == 1
                applied = [e for e in backend.logger.entries if "migration" in e.message]
                assert len(applied) == (1 if run == 0 else 0), config["client"]
    assert (tmp_path / "counter.sqlite").is_file()


async def test_on_mysql_a_second_instance_waits_for_the_named_lock(
    test_databases: TestDatabases,
) -> None:
    config = await test_databases.backend_config("MYSQL_8")
    database = f"{config['prefix']}counter"
    admin = create_async_engine(
        test_databases.mysql_url, poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    async with admin.connect() as conn:
        await conn.execute(text(f"CREATE DATABASE `{database}`"))
    other = plugin_engine(test_databases, config, "counter")
    name = mysql_migration_lock_name(database, "counter_alembic_version")
    started = anyio.Event()

    async def start_backend(stop: anyio.Event) -> None:
        async with counter_backend(config):
            started.set()
            await stop.wait()

    try:
        async with other.connect() as holder:
            assert (await holder.scalar(text("SELECT GET_LOCK(:n, 0)"), {"n": name})) == 1
            stop = anyio.Event()
            async with anyio.create_task_group() as group:
                group.start_soon(start_backend, stop)
                with anyio.fail_after(10):
                    # The waiter is inside MySQL, which offers no event to wait on: poll.
                    while not await _someone_waits_for_a_user_lock(admin):  # noqa: ASYNC110
                        await anyio.sleep(0.01)
                assert not started.is_set()
                assert "events" not in await table_names(other)
                await holder.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": name})
                with anyio.fail_after(20):
                    await started.wait()
                assert await count_events(other) == 1
                stop.set()
    finally:
        await other.dispose()
        await admin.dispose()


async def _someone_waits_for_a_user_lock(admin: AsyncEngine) -> bool:
    async with admin.connect() as conn:
        result = await conn.execute(
            text("SELECT count(*) FROM information_schema.processlist WHERE state = 'User lock'")
        )
        return bool(result.scalar())


async def test_on_mysql_a_failed_migration_releases_the_lock(
    test_databases: TestDatabases,
) -> None:
    config = await test_databases.backend_config("MYSQL_8")
    with pytest.raises(BackendStartupError) as caught:
        async with start_test_backend(
            features=[
                database_service_factory(),
                database_plugin("broken", migrations=MIGRATIONS / "broken"),
            ],
            config={"backend": {"database": config}},
        ):
            pass
    assert "this migration is broken" in repr(caught.value.errors)
    engine = plugin_engine(test_databases, config, "broken")
    try:
        async with engine.connect() as conn:
            name = mysql_migration_lock_name(f"{config['prefix']}broken", "broken_alembic_version")
            # MySQL commits DDL at once: the table stays, but no revision was recorded.
            assert (await conn.execute(text("SELECT IS_FREE_LOCK(:n)"), {"n": name})).scalar() == 1
            versions = await conn.execute(text("SELECT count(*) FROM broken_alembic_version"))
            assert versions.scalar() == 0
    finally:
        await engine.dispose()


async def test_two_migration_sets_share_a_plugin_database(database_config: dict[str, Any]) -> None:
    async def migrate_notes(database: Any) -> None:
        await database.migrate(NOTES_MIGRATIONS, version_table="notes_alembic_version")

    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[
            database_service_factory(),
            database_plugin(
                "counter", migrations=COUNTER_MIGRATIONS, seen=seen, then=migrate_notes
            ),
        ],
        config={"backend": {"database": database_config}},
    ):
        engine = await seen["counter"].get_client()
        assert {"events", "notes", "counter_alembic_version", "notes_alembic_version"} <= (
            await table_names(engine)
        )
        async with engine.connect() as conn:
            notes = await conn.execute(text("SELECT version_num FROM notes_alembic_version"))
            assert notes.scalars().all() == ["notes_0001"]


async def test_plugins_migrating_at_once_each_migrate_their_own_database(
    database_config: dict[str, Any],
) -> None:
    ids = [f"counter-{index}" for index in range(6)]  # dashes: quoted table names
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[
            database_service_factory(),
            *(database_plugin(i, migrations=COUNTER_MIGRATIONS, seen=seen) for i in ids),
        ],
        config={"backend": {"database": database_config}},
    ):
        counts = [await count_events(await seen[i].get_client()) for i in ids]
    assert counts == [1] * len(ids)


async def test_a_missing_migration_directory_fails_the_plugin(tmp_path: Path) -> None:
    with pytest.raises(BackendStartupError) as caught:
        async with start_test_backend(
            features=[
                database_service_factory(),
                database_plugin("counter", migrations=tmp_path / "nowhere"),
            ],
        ):
            pass
    assert "nowhere" in repr(caught.value.errors)


async def test_scripts_outside_a_versions_folder_fail_the_plugin_naming_the_folder(
    tmp_path: Path,
) -> None:
    # The revision file sits where Alembic never looks: at the top instead of in versions/.
    script = (COUNTER_MIGRATIONS / "versions" / "0001_events.py").read_text()
    (tmp_path / "0001_events.py").write_text(script)
    (tmp_path / "env.py").write_text("")
    with pytest.raises(BackendStartupError) as caught:
        async with start_test_backend(
            features=[database_service_factory(), database_plugin("counter", migrations=tmp_path)],
        ):
            pass
    message = str(caught.value.errors[0])
    assert f"'{tmp_path}'" in message
    assert "0001_events.py" in message
    assert "versions/" in message


async def test_a_folder_without_scripts_warns_and_creates_nothing(tmp_path: Path) -> None:
    (tmp_path / "versions").mkdir()
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[
            database_service_factory(),
            database_plugin("counter", migrations=tmp_path, seen=seen),
        ],
    ) as backend:
        assert await table_names(await seen["counter"].get_client()) == set()
    warnings = [e for e in backend.logger.entries if e.level == "warn"]
    assert [e.message for e in warnings] == [
        f"No database migrations found in '{tmp_path}'; nothing to apply"
    ]
    assert warnings[0].fields["plugin"] == "counter"
