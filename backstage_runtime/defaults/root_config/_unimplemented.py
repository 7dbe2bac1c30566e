"""Config keys that Backstage's backend reads and backstage-runtime does not (yet).

A Node backend acts on each of these keys; silently ignoring one would leave, say, a rate limit
or a server timeout unenforced without the operator knowing. So when one is set, the backend
logs one warning at start naming it (see :meth:`RootConfig.startup_warnings`).

The list is ``packages/backend-defaults/config.d.ts`` and its entry points' ``config.d.ts``
(backend-defaults 0.19) less every key this package reads. Keys whose values we refuse with an
error (an unsupported cache store, a Redis cluster, a PostgreSQL connection type) are not here:
those are not silent. Remove a key from here in the change that implements it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from backstage_runtime.api.errors import ConfigError

from ._reader import ConfigReader
from ._source import ConfigSourceData

__all__ = ["UNIMPLEMENTED_KEYS", "unimplemented_key_warnings"]

#: Each key, and what Backstage does with it (the warning quotes it).
UNIMPLEMENTED_KEYS: Final[tuple[tuple[str, str], ...]] = (
    ("backend.database.keepalive", "pings each plugin database every minute"),
    ("backend.logger.redactAllowlist", "lists values the logger does not redact"),
)


def _location(sources: Sequence[ConfigSourceData], key: str) -> str | None:
    # The highest-priority source that sets the key is the one whose value is in force.
    for source in reversed(sources):
        if _has(ConfigReader(source.data), key):
            return source.locations.get(key) or source.context
    return None


def _has(reader: ConfigReader, key: str) -> bool:
    try:
        return reader.has(key)
    except ConfigError:
        # A scalar where an object belongs (``backend.server: 5``): the reader of that section
        # reports it with a better message; a warning here would only repeat it.
        return False


def unimplemented_key_warnings(sources: Sequence[ConfigSourceData]) -> list[str]:
    """One warning for each key of :data:`UNIMPLEMENTED_KEYS` set in ``sources``.

    ``sources`` are lowest priority first. A key counts as set when the merged config has a
    value there (a ``null`` does not count); each warning names the key and where it was set.
    """
    reader = ConfigReader.from_sources(sources)
    warnings: list[str] = []
    for key, effect in UNIMPLEMENTED_KEYS:
        if not _has(reader, key):
            continue
        where = _location(sources, key)
        warnings.append(
            f"Config key '{key}'{f' ({where})' if where else ''} is not implemented by "
            f"backstage-runtime and is ignored; in Backstage it {effect}"
        )
    return warnings
