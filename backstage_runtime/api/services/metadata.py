"""``core.pluginMetadata``, ``core.rootInstanceMetadata``, ``core.rootSystemMetadata`` and the
legacy ``core.instanceMetadata``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = [
    "BackendFeatureMeta",
    "InstanceMetadataService",
    "InstalledModule",
    "InstalledPlugin",
    "PluginMetadataService",
    "RootInstanceMetadataService",
    "RootSystemMetadataService",
    "SystemPluginInfo",
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


@dataclass(frozen=True)
class SystemPluginInfo:
    """A plugin somewhere in the deployment (``RootSystemMetadataServicePluginInfo``)."""

    plugin_id: str


class RootSystemMetadataService(Protocol):
    """What the whole deployment runs, as far as this instance knows (Backstage's alpha
    ``RootSystemMetadataService``): the plugins named in ``discovery.endpoints`` and the ones
    installed here.
    """

    async def get_installed_plugins(self) -> tuple[SystemPluginInfo, ...]:
        """Every plugin id of ``discovery.endpoints[].plugins`` in config order (a literal ``*``
        included), then this instance's plugins; like Backstage, duplicates are kept.
        """


@dataclass(frozen=True)
class BackendFeatureMeta:
    """One installed feature as the legacy ``core.instanceMetadata`` lists it (Backstage's
    ``BackendFeatureMeta``): a plugin, or a module with the plugin it extends.
    """

    type: Literal["plugin", "module"]
    plugin_id: str
    #: Set for modules only.
    module_id: str | None = None


class InstanceMetadataService(Protocol):
    """The legacy ``core.instanceMetadata`` (Backstage keeps it for backward compatibility;
    :class:`RootInstanceMetadataService` replaces it).
    """

    def get_installed_features(self) -> tuple[BackendFeatureMeta, ...]:
        """Each installed plugin followed by its modules, in registration order."""
