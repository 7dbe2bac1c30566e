"""Backstage's ``DatabaseUserSettingsStore.test.ts``, case for case, on every engine.

Backstage runs it on PostgreSQL and SQLite; ``TestDatabases`` here adds MySQL/MariaDB. Each
case gets a fresh database (Backstage shares one per engine and empties the table after each
case): the same isolation, without depending on the clean-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from backstage_plugin_user_settings_backend import (
    DatabaseUserSettingsStore,
    UserSetting,
    user_settings_table,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from backstage_runtime import JsonValue, NotFoundError
from backstage_runtime.testing import TestDatabases

pytestmark = pytest.mark.anyio


@dataclass
class Store:
    """The store under test and an engine on its database (Backstage's ``{ storage, knex }``)."""

    storage: DatabaseUserSettingsStore
    knex: AsyncEngine

    async def insert(self, rows: list[dict[str, str]]) -> None:
        async with self.knex.begin() as connection:
            await connection.execute(sa.insert(user_settings_table), rows)

    async def query(self) -> list[dict[str, Any]]:
        statement = sa.select(user_settings_table).order_by(user_settings_table.c.user_entity_ref)
        async with self.knex.connect() as connection:
            return [dict(row._mapping) for row in await connection.execute(statement)]


@pytest.fixture(params=TestDatabases.each_supported_id())
async def store(request: pytest.FixtureRequest, test_databases: TestDatabases) -> Store:
    """``createStore(databaseId)``: the store created (and so migrated) on a new database."""
    database = await test_databases.init_service(request.param, plugin_id="user-settings")
    storage = await DatabaseUserSettingsStore.create(database)
    return Store(storage, await database.get_client())


# -- get ------------------------------------------------------------------------------------


async def test_get_should_throw_an_error(store: Store) -> None:
    with pytest.raises(NotFoundError) as raised:
        await store.storage.get(user_entity_ref="user-1", bucket="bucket-c", key="key-c")
    assert str(raised.value) == "Unable to find 'key-c' in bucket 'bucket-c'"


async def test_get_should_return_the_setting(store: Store) -> None:
    await store.insert(
        [
            {
                "user_entity_ref": "user-1",
                "bucket": "bucket-a",
                "key": "key-a",
                "value": '"value-a"',
            },
            {
                "user_entity_ref": "user-2",
                "bucket": "bucket-c",
                "key": "key-c",
                "value": '"value-c"',
            },
        ]
    )

    setting = await store.storage.get(user_entity_ref="user-1", bucket="bucket-a", key="key-a")

    assert setting == UserSetting(bucket="bucket-a", key="key-a", value="value-a")


# -- set ------------------------------------------------------------------------------------


async def test_set_should_insert_a_new_setting(store: Store) -> None:
    await store.storage.set(
        user_entity_ref="user-1", bucket="bucket-a", key="key-a", value="value-a"
    )

    assert await store.query() == [
        {"user_entity_ref": "user-1", "bucket": "bucket-a", "key": "key-a", "value": '"value-a"'}
    ]


async def test_set_should_overwrite_an_existing_setting(store: Store) -> None:
    await store.storage.set(
        user_entity_ref="user-1", bucket="bucket-a", key="key-a", value="value-a"
    )
    await store.storage.set(
        user_entity_ref="user-1", bucket="bucket-a", key="key-a", value="value-b"
    )

    assert await store.query() == [
        {"user_entity_ref": "user-1", "bucket": "bucket-a", "key": "key-a", "value": '"value-b"'}
    ]


# -- delete ---------------------------------------------------------------------------------


async def test_delete_should_not_throw_an_error_if_the_entry_does_not_exist(store: Store) -> None:
    # Jest's ``resolves.toBeUndefined()``: it completes without raising.
    await store.storage.delete(user_entity_ref="user-1", bucket="bucket-c", key="key-c")

    assert await store.query() == []


async def test_delete_should_return_the_setting(store: Store) -> None:
    # Backstage's name; what the case checks is that only the named setting is deleted.
    await store.insert(
        [
            {
                "user_entity_ref": "user-1",
                "bucket": "bucket-a",
                "key": "key-a",
                "value": '"value-a"',
            },
            {
                "user_entity_ref": "user-2",
                "bucket": "bucket-c",
                "key": "key-c",
                "value": '"value-c"',
            },
        ]
    )

    await store.storage.delete(user_entity_ref="user-1", bucket="bucket-a", key="key-a")

    assert await store.query() == [
        {"user_entity_ref": "user-2", "bucket": "bucket-c", "key": "key-c", "value": '"value-c"'}
    ]


# -- beyond Backstage's cases: what a database shared with a Node backend relies on ----------


async def test_the_migration_creates_backstages_table(store: Store) -> None:
    def describe(connection: Any) -> tuple[list[tuple[str, Any, bool]], list[str]]:
        inspector = sa.inspect(connection)
        columns = [
            (column["name"], getattr(column["type"], "length", None), column["nullable"])
            for column in inspector.get_columns("user_settings")
        ]
        return columns, inspector.get_pk_constraint("user_settings")["constrained_columns"]

    async with store.knex.connect() as connection:
        columns, primary_key = await connection.run_sync(describe)

    # report.sql.md of the Node plugin: three varchar(255) and the value as text, all NOT NULL.
    assert columns == [
        ("user_entity_ref", 255, False),
        ("bucket", 255, False),
        ("key", 255, False),
        ("value", None, False),
    ]
    assert primary_key == ["user_entity_ref", "bucket", "key"]


async def test_values_are_stored_as_json_stringify_writes_them(store: Store) -> None:
    value: JsonValue = {"b": [1, 2.5, None, True], "a": "ünïcode ✓"}
    await store.storage.set(user_entity_ref="user-1", bucket="bucket-a", key="key-a", value=value)

    rows = await store.query()

    assert rows[0]["value"] == '{"b":[1,2.5,null,true],"a":"ünïcode ✓"}'
    setting = await store.storage.get(user_entity_ref="user-1", bucket="bucket-a", key="key-a")
    assert setting.value == value
