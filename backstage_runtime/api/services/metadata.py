"""``core.pluginMetadata`` and ``core.rootInstanceMetadata``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "InstalledModule",
    "InstalledPlugin",
    "PluginMetadataService",
    "RootInstanceMetadataService",
]


class PluginMetadataService(Protocol):
    """Tells a plugin-scoped service which plugin it serves."""

    def get_id(self) -> str:
        """The plugin id."""


@dataclass(frozen=True)
class InstalledModule:
    """A module installed in this backend instance."""

    module_id: str


@dataclass(frozen=True)
class InstalledPlugin:
    """A plugin installed in this backend instance, with its modules."""

    plugin_id: str
    modules: tuple[InstalledModule, ...]


class RootInstanceMetadataService(Protocol):
    """What this backend instance runs."""

    async def get_installed_plugins(self) -> tuple[InstalledPlugin, ...]:
        """The installed plugins in registration order, each with its modules."""
