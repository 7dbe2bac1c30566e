"""Log levels: winston's npm scale, of which the service exposes error, warn, info and debug."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal

from ...api.errors import ConfigError

__all__ = ["LEVELS", "LogLevel", "level_value", "parse_level"]

#: The level methods of the logger service.
LogLevel = Literal["error", "warn", "info", "debug"]

# Backstage configures winston with the npm scale, so ``LOG_LEVEL=verbose`` or ``silly`` is valid
# there; accepting the whole scale keeps existing deployments' environments working here.
LEVELS: Final[Mapping[str, int]] = MappingProxyType(
    {"error": 0, "warn": 1, "info": 2, "http": 3, "verbose": 4, "debug": 5, "silly": 6}
)


def level_value(name: str) -> int | None:
    """The severity rank of level ``name`` (0 is most severe), or None when it is no level."""
    return LEVELS.get(name.strip().lower())


def parse_level(value: str, *, source: str) -> str:
    """Normalise ``value`` to a level name.

    ``source`` says where the value came from (``config at backend.logger.level``,
    ``environment variable LOG_LEVEL``) and is named in the :class:`ConfigError` raised when the
    value is not a level.
    """
    name = value.strip().lower()
    if name not in LEVELS:
        raise ConfigError(
            f"Invalid {source}, '{value}' is not a valid logging level, must be one of "
            "'error', 'warn', 'info' or 'debug'"
        )
    return name
