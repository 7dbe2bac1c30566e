"""``core.database``: a per-plugin database."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["DatabaseService"]


class DatabaseService(Protocol):
    """A plugin's own database: an SQLAlchemy ``AsyncEngine`` and the migration setting."""

    async def get_client(self) -> Any:
        """The plugin's SQLAlchemy ``AsyncEngine``."""

    @property
    def skip_migrations(self) -> bool:
        """True when ``migrations.skip`` is configured: the plugin must not migrate."""
