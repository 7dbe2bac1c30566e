"""Public keys of one plugin, kept in the plugin's own database so every replica sees them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ...api.services.database import DatabaseService

__all__ = ["DatabaseKeyStore", "StoredKey"]

_MIGRATIONS = Path(__file__).parent / "migrations"
_VERSION_TABLE = "backstage_backend_public_keys__alembic_version"


@dataclass(frozen=True)
class StoredKey:
    """A public JWK and when it stops being listed."""

    key: dict[str, Any]
    expires_at: datetime


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class DatabaseKeyStore:
    """Backstage's ``DatabaseKeyStore``: table ``backstage_backend_public_keys__keys`` with the kid,
    the public JWK as JSON text and the expiry as an ISO string (so Node replicas read it too).
    """

    def __init__(self, database: DatabaseService) -> None:
        self._database = database
        self._ready = False

    async def _engine(self) -> Any:
        if not self._ready:
            await self._database.migrate(_MIGRATIONS, version_table=_VERSION_TABLE)
            self._ready = True
        return await self._database.get_client()

    async def add_key(self, key: dict[str, Any], expires_at: datetime) -> None:
        """Store ``key`` (its ``kid`` is the row id) until ``expires_at``."""
        from ._key_table import insert_key

        engine = await self._engine()
        async with engine.begin() as conn:
            await conn.execute(insert_key(key["kid"], json.dumps(key), _iso(expires_at)))

    async def list_keys(self) -> list[StoredKey]:
        """Every stored key (expired ones included; the caller prunes)."""
        from ._key_table import select_keys

        engine = await self._engine()
        async with engine.connect() as conn:
            rows = (await conn.execute(select_keys())).all()
        return [StoredKey(json.loads(row.key), _parse(row.expires_at)) for row in rows]

    async def remove_keys(self, kids: list[str]) -> None:
        """Delete the keys with these ids."""
        if not kids:
            return
        from ._key_table import delete_keys

        engine = await self._engine()
        async with engine.begin() as conn:
            await conn.execute(delete_keys(kids))
