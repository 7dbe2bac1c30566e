"""``core.permissions`` and ``core.permissionsRegistry``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ._json import JsonObject
from .auth import BackstageCredentials

__all__ = [
    "GetResources",
    "PermissionRule",
    "PermissionsRegistryService",
    "PermissionsService",
    "create_permission_rule",
]


class PermissionsService(Protocol):
    """Asks the permission framework for decisions."""

    async def authorize(
        self,
        requests: Sequence[JsonObject],
        *,
        credentials: BackstageCredentials | None = None,
        token: str | None = None,
    ) -> list[JsonObject]:
        """One ``{"result": "ALLOW"|"DENY"}`` decision per request, in order (``token=`` is the
        legacy form of ``credentials=``).
        """

    async def authorize_conditional(
        self,
        requests: Sequence[JsonObject],
        *,
        credentials: BackstageCredentials | None = None,
        token: str | None = None,
    ) -> list[JsonObject]:
        """Like :meth:`authorize`, but may answer ``CONDITIONAL`` with conditions."""


@dataclass(frozen=True)
class PermissionRule:
    """A rule a permission policy can put in conditions for one resource type.

    ``apply(resource, params)`` says whether a loaded resource passes; ``params_schema`` (a JSON
    schema) is published on the plugin's permission metadata endpoint.
    """

    name: str
    description: str
    resource_type: str
    apply: Callable[[Any, Mapping[str, Any]], bool]
    params_schema: JsonObject = field(default_factory=dict)


def create_permission_rule(
    *,
    name: str,
    description: str,
    resource_type: str,
    apply: Callable[[Any, Mapping[str, Any]], bool],
    params_schema: JsonObject | None = None,
) -> PermissionRule:
    """Backstage's ``createPermissionRule``."""
    return PermissionRule(name, description, resource_type, apply, params_schema or {})


#: Loads resources by ref for the apply-conditions endpoint (None for a ref that does not exist).
GetResources = Callable[[Sequence[str]], Awaitable[Sequence[Any | None]]]


class PermissionsRegistryService(Protocol):
    """Lets a plugin declare its permissions, resource types and rules; they are served on
    ``/.well-known/backstage/permissions/metadata`` and used by ``.../apply-conditions``.
    """

    def add_permissions(self, permissions: Sequence[JsonObject]) -> None:
        """Declare permissions served on the plugin's permission metadata endpoint."""

    def add_permission_rules(self, rules: Sequence[PermissionRule]) -> None:
        """Declare rules for resource types already added."""

    def add_resource_type(
        self,
        *,
        resource_type: str,
        permissions: Sequence[JsonObject] = (),
        rules: Sequence[PermissionRule] = (),
        get_resources: GetResources | None = None,
    ) -> None:
        """Declare a resource type of this plugin with its permissions and rules."""
