"""``core.urlReader``: reading files and trees from integrations."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["UrlReaderService"]


class UrlReaderService(Protocol):
    """Reads URLs through the configured integrations."""

    async def read_url(self, url: str, **options: Any) -> Any:
        """Read one file; raises NotModifiedError, NotFoundError or NotAllowedError."""

    async def read_tree(self, url: str, **options: Any) -> Any:
        """Read a directory tree."""

    async def search(self, url: str, **options: Any) -> Any:
        """Find files matching a glob URL."""
