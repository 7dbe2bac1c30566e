"""The default ``core.rootSystemMetadata``: discovery's plugins and this instance's."""

from __future__ import annotations

from ...api import Config, LoggerService, RootConfigService
from ...api.services.metadata import RootInstanceMetadataService, SystemPluginInfo

__all__ = ["DefaultRootSystemMetadataService", "read_discovery_plugin_ids"]


def read_discovery_plugin_ids(config: Config) -> tuple[str, ...]:
    """Every id in ``discovery.endpoints[].plugins``, in config order, ``*`` and repeats kept."""
    entries = config.get_optional_config_array("discovery.endpoints") or []
    return tuple(plugin_id for entry in entries for plugin_id in entry.get_string_array("plugins"))


class DefaultRootSystemMetadataService:
    """Backstage's ``DefaultRootSystemMetadataService``: the plugins other instances serve, as
    ``discovery.endpoints`` names them, followed by the ones installed here.

    ``discovery.endpoints`` is re-read when the config changes; a change that cannot be read
    keeps the previous list and logs why (as discovery itself does).
    """

    def __init__(
        self,
        *,
        config: RootConfigService,
        logger: LoggerService,
        instance_metadata: RootInstanceMetadataService,
    ) -> None:
        self._instance_metadata = instance_metadata
        self._remote = read_discovery_plugin_ids(config)

        def on_change() -> None:
            try:
                self._remote = read_discovery_plugin_ids(config)
            except Exception as error:
                logger.error(
                    "Ignoring the changed discovery.endpoints in the system metadata, "
                    "keeping the previous plugin list",
                    error,
                )

        config.subscribe(on_change)

    async def get_installed_plugins(self) -> tuple[SystemPluginInfo, ...]:
        """The plugin ids of ``discovery.endpoints``, then this instance's (duplicates kept)."""
        local = await self._instance_metadata.get_installed_plugins()
        return tuple(SystemPluginInfo(plugin_id) for plugin_id in self._remote) + tuple(
            SystemPluginInfo(plugin.plugin_id) for plugin in local
        )
