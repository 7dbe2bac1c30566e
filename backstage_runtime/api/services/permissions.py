"""``core.permissions`` and ``core.permissionsRegistry``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ._json import JsonObject
from .auth import BackstageCredentials

__all__ = ["PermissionsRegistryService", "PermissionsService"]


class PermissionsService(Protocol):
    """Asks the permission framework for decisions."""

    async def authorize(
        self, requests: Sequence[JsonObject], *, credentials: BackstageCredentials
    ) -> list[JsonObject]:
        """One ``{"result": "ALLOW"|"DENY"}`` decision per request, in order."""

    async def authorize_conditional(
        self, requests: Sequence[JsonObject], *, credentials: BackstageCredentials
    ) -> list[JsonObject]:
        """Like :meth:`authorize`, but may answer ``CONDITIONAL`` with conditions."""


class PermissionsRegistryService(Protocol):
    """Lets a plugin declare its permissions, resource types and rules."""

    def add_permissions(self, permissions: Sequence[JsonObject]) -> None:
        """Declare permissions served on the plugin's permission metadata endpoint."""

    def add_resource_type(
        self,
        *,
        resource_type: str,
        permissions: Sequence[JsonObject],
        rules: Sequence[Any],
        get_resources: Any = None,
    ) -> None:
        """Declare a resource type with its rules."""
