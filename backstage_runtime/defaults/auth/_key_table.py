"""The statements of the public-key table (SQLAlchemy Core), kept apart from the key store so
that SQLAlchemy loads when a key is first stored or read, not when a plugin's auth is built.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["delete_keys", "insert_key", "select_keys"]

_TABLE = sa.table(
    "backstage_backend_public_keys__keys",
    sa.column("id", sa.String),
    sa.column("key", sa.Text),
    sa.column("expires_at", sa.String),
)


def insert_key(kid: str, key_json: str, expires_at: str) -> sa.Insert:
    """One row: the kid, the public JWK as JSON text, the expiry as an ISO string."""
    return sa.insert(_TABLE).values(id=kid, key=key_json, expires_at=expires_at)


def select_keys() -> sa.Select[tuple[str, str]]:
    """Every stored key and its expiry."""
    return sa.select(_TABLE.c.key, _TABLE.c.expires_at)


def delete_keys(kids: list[str]) -> sa.Delete:
    """The rows of these kids."""
    return sa.delete(_TABLE).where(_TABLE.c.id.in_(kids))
