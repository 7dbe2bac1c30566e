"""Reading ``integrations.<provider>[]`` entries: hosts, base URLs and secrets, checked with
errors that name the key (never the secret's value).
"""

from __future__ import annotations

from ...api.errors import ConfigError
from ...api.services.config import Config
from ._urls import is_valid_host, split_url

__all__ = ["read_base_url", "read_host"]


def read_host(config: Config, key: str, *, provider: str, default: str | None = None) -> str:
    """The ``host`` of one integration entry (``key`` names the entry in errors)."""
    host = config.get_optional_string("host") if default is not None else config.get_string("host")
    host = host or default or ""
    if not is_valid_host(host):
        raise ConfigError(
            f"Invalid {provider} integration config at '{key}.host', '{host}' is not a valid "
            "host (expected a host name with an optional port, not a URL)"
        )
    return host.lower()


def read_base_url(config: Config, name: str, key: str, *, provider: str) -> str | None:
    """An optional ``http(s)`` base URL at ``name``, without trailing slashes.

    Plain ``http`` is accepted so that a forge on a private network (or a test server) works.
    """
    value = config.get_optional_string(name)
    if value is None:
        return None
    value = value.rstrip("/")
    try:
        split_url(value)
    except Exception:
        raise ConfigError(
            f"Invalid {provider} integration config at '{key}.{name}', '{value}' is not a valid "
            "http(s) URL"
        ) from None
    return value
