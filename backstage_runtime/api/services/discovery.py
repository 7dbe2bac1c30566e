"""``core.discovery``: where plugins live."""

from __future__ import annotations

from typing import Protocol

__all__ = ["DiscoveryService"]


class DiscoveryService(Protocol):
    """Finds the base URL of a plugin, in this backend or another one."""

    async def get_base_url(self, plugin_id: str) -> str:
        """The internal base URL (``http://host:port/api/<pluginId>``)."""

    async def get_external_base_url(self, plugin_id: str) -> str:
        """The base URL as seen from outside (``<backend.baseUrl>/api/<pluginId>``)."""
