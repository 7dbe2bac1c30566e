"""Where user settings are kept: the ``UserSettingsStore`` interface and its database store."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from backstage_runtime import DatabaseService, JsonObject, JsonValue, NotFoundError

__all__ = [
    "MIGRATIONS",
    "DatabaseUserSettingsStore",
    "UserSetting",
    "UserSettingsStore",
    "user_settings_table",
]

#: The plugin's Alembic revisions (``migrations/versions``), applied when the store is created.
MIGRATIONS: Final = Path(__file__).parent / "migrations"

#: The ``user_settings`` table as the migration creates it (Backstage's schema).
user_settings_table: Final = sa.Table(
    "user_settings",
    sa.MetaData(),
    sa.Column("user_entity_ref", sa.String(255), primary_key=True),
    sa.Column("bucket", sa.String(255), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


@dataclass(frozen=True)
class UserSetting:
    """One setting: a JSON ``value`` under ``key`` in ``bucket`` (of one user)."""

    bucket: str
    key: str
    value: JsonValue

    def to_json(self) -> JsonObject:
        """``{"bucket", "key", "value"}``, the shape the HTTP API answers with."""
        return {"bucket": self.bucket, "key": self.key, "value": self.value}


class UserSettingsStore(Protocol):
    """Keeps each user's settings; Backstage's ``UserSettingsStore``."""

    async def get(self, *, user_entity_ref: str, bucket: str, key: str) -> UserSetting:
        """The setting; raises :class:`NotFoundError` when the user has none under that key."""

    async def set(self, *, user_entity_ref: str, bucket: str, key: str, value: JsonValue) -> None:
        """Create the setting, or replace its value."""

    async def delete(self, *, user_entity_ref: str, bucket: str, key: str) -> None:
        """Remove the setting; nothing happens when there is none."""


def _encode(value: JsonValue) -> str:
    # As JSON.stringify writes it (compact, non-ASCII kept), so rows read the same whichever
    # backend (this one or Node's) wrote them.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class DatabaseUserSettingsStore:
    """The settings in the plugin database's ``user_settings`` table."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._upsert = _upsert_for(engine.dialect.name)

    @classmethod
    async def create(cls, database: DatabaseService) -> DatabaseUserSettingsStore:
        """The store on ``database``, migrated first unless ``migrations.skip`` is configured."""
        await database.migrate(MIGRATIONS)
        return cls(await database.get_client())

    async def get(self, *, user_entity_ref: str, bucket: str, key: str) -> UserSetting:
        """The setting; raises :class:`NotFoundError` naming the key and the bucket."""
        table = user_settings_table
        query = sa.select(table.c.bucket, table.c.key, table.c.value).where(
            table.c.user_entity_ref == user_entity_ref,
            table.c.bucket == bucket,
            table.c.key == key,
        )
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            raise NotFoundError(f"Unable to find '{key}' in bucket '{bucket}'")
        return UserSetting(bucket=row.bucket, key=row.key, value=json.loads(row.value))

    async def set(self, *, user_entity_ref: str, bucket: str, key: str, value: JsonValue) -> None:
        """Insert the setting, or overwrite the value of the one already there (one statement:
        two instances setting the same key at once cannot conflict)."""
        row = {
            "user_entity_ref": user_entity_ref,
            "bucket": bucket,
            "key": key,
            "value": _encode(value),
        }
        async with self._engine.begin() as connection:
            await connection.execute(self._upsert(row))

    async def delete(self, *, user_entity_ref: str, bucket: str, key: str) -> None:
        """Delete the setting if there is one."""
        table = user_settings_table
        statement = sa.delete(table).where(
            table.c.user_entity_ref == user_entity_ref,
            table.c.bucket == bucket,
            table.c.key == key,
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)


def _upsert_for(dialect: str) -> Callable[[Mapping[str, str]], sa.Insert]:
    """``INSERT ... ON CONFLICT (primary key) DO UPDATE SET value`` in ``dialect``'s words
    (knex's ``onConflict().merge(['value'])``)."""
    table = user_settings_table
    keys = ["user_entity_ref", "bucket", "key"]
    if dialect in ("postgresql", "sqlite"):
        insert_pg_or_sqlite = postgresql.insert if dialect == "postgresql" else sqlite.insert

        def upsert_on_conflict(row: Mapping[str, str]) -> sa.Insert:
            statement = insert_pg_or_sqlite(table).values(row)
            return statement.on_conflict_do_update(
                index_elements=keys, set_={"value": statement.excluded.value}
            )

        return upsert_on_conflict
    if dialect in ("mysql", "mariadb"):

        def upsert_on_duplicate(row: Mapping[str, str]) -> sa.Insert:
            statement = mysql.insert(table).values(row)
            return statement.on_duplicate_key_update(value=statement.inserted.value)

        return upsert_on_duplicate
    raise ValueError(
        f"The user-settings store does not support the '{dialect}' database dialect "
        "(expected PostgreSQL, SQLite or MySQL/MariaDB)"
    )
