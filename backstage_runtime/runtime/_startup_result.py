"""What a start did: each plugin's outcome, the modules skipped, the warnings."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PluginStartup", "StartupResult"]


@dataclass
class PluginStartup:
    """How one plugin's start went; ``failure`` is None unless the plugin itself failed.

    ``module_failures`` maps a module id to its failure line and whether it was permitted; a
    module failure that is not permitted stops the plugin before its own init runs.
    """

    plugin_id: str
    failure: str | None = None
    allowed: bool = False
    module_failures: dict[str, tuple[str, bool]] = field(default_factory=dict)

    @property
    def started(self) -> bool:
        """Whether the plugin's init completed (no failure of its own or of a strict module)."""
        if self.failure is not None:
            return False
        return all(allowed for _line, allowed in self.module_failures.values())


@dataclass
class StartupResult:
    """The outcome of a start: every plugin, and the modules skipped for lack of their plugin."""

    plugins: dict[str, PluginStartup] = field(default_factory=dict)
    skipped_modules: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """``success`` when every failure was permitted, else ``failure``."""
        for plugin in self.plugins.values():
            if plugin.failure is not None and not plugin.allowed:
                return "failure"
            if any(not allowed for _msg, allowed in plugin.module_failures.values()):
                return "failure"
        return "success"
