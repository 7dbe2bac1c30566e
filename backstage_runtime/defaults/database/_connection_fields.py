"""Reading the fields of a ``connection`` object, shared by the PostgreSQL and MySQL readers."""

from __future__ import annotations

from collections.abc import Mapping

from ...api.errors import ConfigError

__all__ = ["read_port", "read_text"]


def read_text(
    connection: Mapping[str, object], name: str, key: str, *, empty: bool = False
) -> str | None:
    """``connection[name]`` as a string (None when absent); ``empty`` admits ``""``.

    Raises :class:`ConfigError` naming ``<key>.<name>`` for anything else.
    """
    value = connection.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or (not value and not empty):
        raise ConfigError(f"Invalid config at '{key}.{name}': expected a non-empty string")
    return value


def read_port(value: object, key: str) -> int:
    """A port number given as a number or a string of digits; :class:`ConfigError` naming
    ``key`` otherwise.
    """
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ConfigError(f"Invalid config at '{key}': expected a port number")
    return value
