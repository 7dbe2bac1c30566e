"""``backend.startup``: which plugin and module boot failures are allowed."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..api import Config

__all__ = ["BootFailurePolicy"]


@dataclass(frozen=True)
class BootFailurePolicy:
    """Reads ``backend.startup`` once; only the exact string ``continue`` permits a failure."""

    default_plugin: bool = False
    default_module: bool = False
    plugins: dict[str, bool] = field(default_factory=dict)
    modules: dict[tuple[str, str], bool] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Config | None) -> BootFailurePolicy:
        """The policy configured under ``backend.startup`` (abort everywhere when absent)."""
        if config is None:
            return cls()
        startup = config.get_optional_config("backend.startup")
        if startup is None:
            return cls()

        def allows(value: object) -> bool:
            return value == "continue"

        default = startup.get_optional_config("default")
        plugins: dict[str, bool] = {}
        modules: dict[tuple[str, str], bool] = {}
        plugin_configs = startup.get_optional_config("plugins")
        for plugin_id in plugin_configs.keys() if plugin_configs else []:
            assert plugin_configs is not None
            plugin_config = plugin_configs.get_config(plugin_id)
            value = plugin_config.get_optional("onPluginBootFailure")
            if value is not None:
                plugins[plugin_id] = allows(value)
            module_configs = plugin_config.get_optional_config("modules")
            for module_id in module_configs.keys() if module_configs else []:
                assert module_configs is not None
                module_value = module_configs.get_config(module_id).get_optional(
                    "onPluginModuleBootFailure"
                )
                if module_value is not None:
                    modules[(plugin_id, module_id)] = allows(module_value)
        return cls(
            default_plugin=allows(default.get_optional("onPluginBootFailure"))
            if default
            else False,
            default_module=(
                allows(default.get_optional("onPluginModuleBootFailure")) if default else False
            ),
            plugins=plugins,
            modules=modules,
        )

    def allows_plugin_failure(self, plugin_id: str) -> bool:
        """Whether plugin ``plugin_id`` may fail without aborting the start."""
        return self.plugins.get(plugin_id, self.default_plugin)

    def allows_module_failure(self, plugin_id: str, module_id: str) -> bool:
        """Whether a module may fail; falls back to the default module setting, not the plugin's."""
        return self.modules.get((plugin_id, module_id), self.default_module)
