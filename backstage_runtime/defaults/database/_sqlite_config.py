"""SQLite settings of one plugin: in memory, or ``<directory>/<pluginId>.sqlite``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ...api.errors import ConfigError
from ...api.services._json import JsonValue
from ._section import DatabaseSection
from ._settings import SqliteSettings

__all__ = ["MEMORY", "read_sqlite_settings"]

MEMORY = ":memory:"
_FIELDS = frozenset({"filename", "directory"})


def read_sqlite_settings(
    section: DatabaseSection, *, client_overridden: bool, division_mode: str
) -> SqliteSettings:
    """Resolve where the plugin's SQLite database lives, as Backstage's SQLite connector does.

    ``connection`` is ``':memory:'``, a ``{directory}`` (file ``<directory>/<pluginId>.sqlite``),
    or, for one plugin, ``plugin.<id>.connection.filename``. A base filename other than
    ``:memory:`` is refused: every plugin would share one file. Raises :class:`ConfigError`.
    """
    if division_mode != "database":
        raise ConfigError(
            f"Invalid config at '{section.key('pluginDivisionMode')}': the SQLite driver does "
            f"not support plugin division mode '{division_mode}'"
        )
    base: dict[str, str] = {}
    if not client_overridden:
        base = _normalize(section.raw("connection"), section.key("connection"))
        filename = base.get("filename")
        if filename is not None and filename != MEMORY:
            key = section.key("connection") + (
                "" if isinstance(section.raw("connection"), str) else ".filename"
            )
            raise ConfigError(
                f"Invalid config at '{key}': a filename is not supported for the base SQLite "
                "connection (every plugin would share it); use 'connection.directory', or set "
                f"'{section.key('plugin.<pluginId>.connection.filename')}' for one plugin"
            )
    plugin = _normalize(section.plugin_raw("connection"), section.plugin_key("connection"))
    merged = {**base, **plugin}
    filename = merged.get("filename")
    if filename == MEMORY:
        return SqliteSettings(path=None)
    directory = Path(merged.get("directory", "."))
    return SqliteSettings(path=directory / (filename or f"{section.plugin_id}.sqlite"))


def _normalize(value: JsonValue | None, key: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"filename": value}
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"Invalid config at '{key}': expected a filename or an object, "
            f"got {type(value).__name__}"
        )
    result: dict[str, str] = {}
    for name, field_value in value.items():
        if name not in _FIELDS:
            raise ConfigError(
                f"Invalid config at '{key}.{name}': unsupported SQLite connection option, "
                f"expected one of {', '.join(sorted(_FIELDS))}"
            )
        if not isinstance(field_value, str) or not field_value:
            raise ConfigError(f"Invalid config at '{key}.{name}': expected a non-empty string")
        result[name] = field_value
    return result
