"""The public key store on every database engine the database service offers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backstage_runtime import core_services, create_backend_plugin
from backstage_runtime.defaults.auth._key_store import DatabaseKeyStore
from backstage_runtime.defaults.database import database_service_factory
from backstage_runtime.testing import TestDatabases, start_test_backend

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("database_id", TestDatabases.each_supported_id())
async def test_keys_are_added_listed_and_removed(
    database_id: Any, test_databases: TestDatabases
) -> None:
    seen: dict[str, Any] = {}

    def register(env: Any) -> None:
        async def init(*, database: Any) -> None:
            seen["database"] = database

        env.register_init(deps={"database": core_services.database}, init=init)

    config = await test_databases.backend_config(database_id)
    async with start_test_backend(
        features=[
            database_service_factory(),
            create_backend_plugin(plugin_id="alpha", register=register),
        ],
        config={"backend": {"database": config}},
    ):
        store = DatabaseKeyStore(seen["database"])
        expires = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
        for kid in ("one", "two"):
            await store.add_key({"kid": kid, "kty": "EC", "crv": "P-256"}, expires)
        # A second store (another replica) sees them, and migrating again is harmless.
        other = DatabaseKeyStore(seen["database"])
        keys = sorted(await other.list_keys(), key=lambda stored: stored.key["kid"])
        assert [stored.key["kid"] for stored in keys] == ["one", "two"]
        assert keys[0].expires_at == expires
        await other.remove_keys(["one"])
        later = expires + timedelta(days=1)
        await store.add_key({"kid": "three", "kty": "EC"}, later)
        left = {stored.key["kid"]: stored.expires_at for stored in await store.list_keys()}
        assert left == {"two": expires, "three": later}
