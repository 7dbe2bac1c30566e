"""``core.rootSystemMetadata``: discovery's plugins, then this instance's, following config."""

from __future__ import annotations

from typing import Any

import pytest

from backstage_runtime import (
    InstalledPlugin,
    SystemPluginInfo,
    core_services,
    create_backend_plugin,
)
from backstage_runtime.api._metadata_refs import alpha_root_system_metadata_service_ref
from backstage_runtime.defaults.root_config._service import RootConfig
from backstage_runtime.defaults.root_config._source import ConfigSourceData
from backstage_runtime.defaults.root_system_metadata import DefaultRootSystemMetadataService
from backstage_runtime.testing import MockRootLogger, start_test_backend

pytestmark = pytest.mark.anyio

ENDPOINTS = {
    "discovery": {
        "endpoints": [
            {"target": "http://catalog.internal/api/{{pluginId}}", "plugins": ["catalog", "*"]},
            {"target": {"internal": "http://search.internal"}, "plugins": ["search", "catalog"]},
        ]
    }
}


def _plugin_capturing(seen: dict[str, Any]) -> Any:
    def register(env: Any) -> None:
        async def init(*, metadata: Any, alpha: Any) -> None:
            seen["metadata"] = metadata
            seen["alpha"] = alpha
            seen["plugins"] = await metadata.get_installed_plugins()

        env.register_init(
            deps={
                "metadata": core_services.root_system_metadata,
                "alpha": alpha_root_system_metadata_service_ref,
            },
            init=init,
        )

    return create_backend_plugin(plugin_id="test-plugin", register=register)


async def _nothing() -> None:
    pass


async def test_discovery_plugins_then_local_ones_with_duplicates_and_the_wildcard() -> None:
    seen: dict[str, Any] = {}
    other = create_backend_plugin(
        plugin_id="catalog", register=lambda env: env.register_init(deps={}, init=_nothing)
    )
    async with start_test_backend(features=[_plugin_capturing(seen), other], config=ENDPOINTS):
        pass
    assert [p.plugin_id for p in seen["plugins"]] == [
        "catalog",
        "*",
        "search",
        "catalog",
        "test-plugin",
        "catalog",
    ]
    assert seen["alpha"] is seen["metadata"]


async def test_without_discovery_endpoints_it_is_the_local_instance() -> None:
    seen: dict[str, Any] = {}
    async with start_test_backend(features=[_plugin_capturing(seen)]):
        pass
    assert seen["plugins"] == (SystemPluginInfo("test-plugin"),)


class _LocalPlugins:
    async def get_installed_plugins(self) -> tuple[InstalledPlugin, ...]:
        return (InstalledPlugin(plugin_id="local", modules=()),)


def _reloadable(first: dict[str, Any]) -> tuple[RootConfig, list[dict[str, Any]]]:
    current = [first]
    config = RootConfig(
        [ConfigSourceData(context="mock-config", data=first)],
        loader=lambda: [ConfigSourceData(context="mock-config", data=current[0])],
    )
    return config, current


async def test_a_config_change_is_followed() -> None:
    config, current = _reloadable({})
    service = DefaultRootSystemMetadataService(
        config=config, logger=MockRootLogger(), instance_metadata=_LocalPlugins()
    )
    assert await service.get_installed_plugins() == (SystemPluginInfo("local"),)

    current[0] = {"discovery": {"endpoints": [{"target": "http://x", "plugins": ["new"]}]}}
    assert config.reload()
    assert [p.plugin_id for p in await service.get_installed_plugins()] == ["new", "local"]


async def test_an_unreadable_change_keeps_the_previous_list_and_says_why() -> None:
    config, current = _reloadable(
        {"discovery": {"endpoints": [{"target": "http://x", "plugins": ["kept"]}]}}
    )
    logger = MockRootLogger()
    service = DefaultRootSystemMetadataService(
        config=config, logger=logger, instance_metadata=_LocalPlugins()
    )
    current[0] = {"discovery": {"endpoints": [{"target": "http://x", "plugins": "not-a-list"}]}}
    assert config.reload()
    assert [p.plugin_id for p in await service.get_installed_plugins()] == ["kept", "local"]
    [entry] = [e for e in logger.entries if e.level == "error"]
    assert "keeping the previous plugin list" in entry.message
    assert "discovery.endpoints[0].plugins" in str(entry.error)
