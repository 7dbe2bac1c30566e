"""``core.rootConfig``: reading ``app-config.yaml`` values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ._json import JsonValue

__all__ = ["Config", "ConfigSubscription", "RootConfigService"]


class Config(Protocol):
    """A read-only view of configuration, Backstage's ``Config`` reader in Python.

    Keys are dot-separated paths (``backend.baseUrl``). Getters raise
    :class:`~backstage_runtime.api.errors.ConfigError` naming the key, the expected type and the
    file the value came from; the ``get_optional_*`` forms return ``None`` for a missing key.
    """

    def has(self, key: str) -> bool:
        """Whether a value exists at ``key``."""

    def keys(self) -> list[str]:
        """The keys of the object at the root of this view."""

    def get(self, key: str | None = None) -> JsonValue:
        """The raw value at ``key`` (the whole view when ``key`` is None); raises if missing."""

    def get_optional(self, key: str | None = None) -> JsonValue | None:
        """The raw value at ``key``, or None."""

    def get_config(self, key: str) -> Config:
        """A view of the object at ``key``; raises if missing or not an object."""

    def get_optional_config(self, key: str) -> Config | None:
        """A view of the object at ``key``, or None."""

    def get_config_array(self, key: str) -> list[Config]:
        """Views of the objects in the list at ``key``; raises if missing."""

    def get_optional_config_array(self, key: str) -> list[Config] | None:
        """Views of the objects in the list at ``key``, or None."""

    def get_number(self, key: str) -> float:
        """The number at ``key`` (numeric strings accepted, as in Backstage); raises if missing."""

    def get_optional_number(self, key: str) -> float | None:
        """The number at ``key``, or None."""

    def get_boolean(self, key: str) -> bool:
        """The boolean at ``key`` (``yes``/``no``/``on``/``off``/``1``/``0`` accepted)."""

    def get_optional_boolean(self, key: str) -> bool | None:
        """The boolean at ``key``, or None."""

    def get_string(self, key: str) -> str:
        """The non-empty string at ``key``; raises if missing, empty or not a string."""

    def get_optional_string(self, key: str) -> str | None:
        """The non-empty string at ``key``, or None."""

    def get_string_array(self, key: str) -> list[str]:
        """The list of strings at ``key``; raises if missing."""

    def get_optional_string_array(self, key: str) -> list[str] | None:
        """The list of strings at ``key``, or None."""


class ConfigSubscription(Protocol):
    """Handle returned by :meth:`RootConfigService.subscribe`."""

    def unsubscribe(self) -> None:
        """Stop receiving change notifications."""


class RootConfigService(Config, Protocol):
    """The backend's whole configuration, optionally reloaded while running."""

    def subscribe(self, on_change: Callable[[], None]) -> ConfigSubscription:
        """Call ``on_change`` after every reload that changed the configuration."""
