"""Reading one plugin's view of ``backend.database``: plugin overrides first, then the base."""

from __future__ import annotations

from dataclasses import dataclass

from ...api import Config
from ...api.services._json import JsonValue

__all__ = ["DATABASE_CONFIG_KEY", "DatabaseSection"]

#: Where the database configuration lives in app-config.
DATABASE_CONFIG_KEY = "backend.database"


@dataclass(frozen=True)
class DatabaseSection:
    """``backend.database`` as seen by ``plugin_id``; key names are relative to the section.

    Errors raised by the config reader already carry the full key; :meth:`key` and
    :meth:`plugin_key` give the full key for errors raised here.
    """

    config: Config
    plugin_id: str

    def key(self, relative: str) -> str:
        """The full config key of the base setting ``relative``."""
        return f"{DATABASE_CONFIG_KEY}.{relative}"

    def plugin_relative(self, relative: str) -> str:
        """``plugin.<pluginId>.<relative>``, relative to the section."""
        return f"plugin.{self.plugin_id}.{relative}"

    def plugin_key(self, relative: str) -> str:
        """The full config key of the plugin override ``relative``."""
        return self.key(self.plugin_relative(relative))

    def has_plugin(self, relative: str) -> bool:
        """Whether the plugin overrides ``relative``."""
        return self.config.has(self.plugin_relative(relative))

    def string(self, relative: str) -> str | None:
        """The plugin's string at ``relative``, else the base one, else None."""
        value = self.config.get_optional_string(self.plugin_relative(relative))
        return value if value is not None else self.config.get_optional_string(relative)

    def boolean(self, *relatives: str, plugin_relatives: tuple[str, ...] = ()) -> bool | None:
        """The first boolean found: the plugin's ``plugin_relatives`` (default: ``relatives``),
        then the base ``relatives``.
        """
        for relative in plugin_relatives or relatives:
            value = self.config.get_optional_boolean(self.plugin_relative(relative))
            if value is not None:
                return value
        for relative in relatives:
            value = self.config.get_optional_boolean(relative)
            if value is not None:
                return value
        return None

    def number(self, relative: str) -> tuple[float, str] | None:
        """The plugin's number at ``relative`` else the base one, with its full key."""
        for candidate in (self.plugin_relative(relative), relative):
            value = self.config.get_optional_number(candidate)
            if value is not None:
                return value, self.key(candidate)
        return None

    def raw(self, relative: str) -> JsonValue | None:
        """The base value at ``relative`` as it is (objects merged across config files)."""
        return self.config.get_optional(relative)

    def plugin_raw(self, relative: str) -> JsonValue | None:
        """The plugin's value at ``relative`` as it is."""
        return self.config.get_optional(self.plugin_relative(relative))
