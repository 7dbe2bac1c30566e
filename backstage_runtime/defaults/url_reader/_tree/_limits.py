"""Bounds on what one tree read may unpack: ``backend.reading.tree.maxEntries`` / ``maxBytes``.

Backstage has no such limit; without one a small compressed archive can fill the disk or the
memory (``files()`` holds contents) of the backend.
"""

from __future__ import annotations

from dataclasses import dataclass

from ....api.errors import ConfigError
from ....api.services.config import Config

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_ENTRIES", "TreeLimits", "read_tree_limits"]

#: Entries (files, folders, links) one archive may hold.
DEFAULT_MAX_ENTRIES = 100_000
#: Bytes the entries of one archive may hold once decompressed (1 GiB).
DEFAULT_MAX_BYTES = 1024**3

# Every entry costs up to three 512-byte header blocks (a pax or GNU long-name header, then
# its own) besides its data; the decompressed stream may exceed the data limit by that much.
_HEADER_ALLOWANCE = 3 * 512


@dataclass(frozen=True)
class TreeLimits:
    """The most entries and decompressed bytes a tree read accepts."""

    max_entries: int = DEFAULT_MAX_ENTRIES
    max_bytes: int = DEFAULT_MAX_BYTES

    @property
    def max_stream_bytes(self) -> int:
        """The decompressed tar stream may not exceed this (data plus headers and padding)."""
        return self.max_bytes + self.max_entries * _HEADER_ALLOWANCE + 1024 * 1024


def read_tree_limits(config: Config) -> TreeLimits:
    """The limits from ``backend.reading.tree``; raises :class:`ConfigError` naming the key."""
    return TreeLimits(
        max_entries=_positive_int(config, "backend.reading.tree.maxEntries", DEFAULT_MAX_ENTRIES),
        max_bytes=_positive_int(config, "backend.reading.tree.maxBytes", DEFAULT_MAX_BYTES),
    )


def _positive_int(config: Config, key: str, default: int) -> int:
    value = config.get_optional_number(key)
    if value is None:
        return default
    if value != int(value) or value <= 0:
        raise ConfigError(f"Invalid config at '{key}': expected a positive whole number")
    return int(value)
