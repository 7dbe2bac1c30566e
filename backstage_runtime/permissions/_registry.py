"""The registry of one plugin: its permissions, resource types and rules, and the integration
endpoints the permission backend calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..api.errors import InputError, NotAllowedError, NotImplementedYetError
from ..api.services._json import JsonObject, JsonValue
from ..api.services.auth import BackstageServicePrincipal, BackstageUserPrincipal, HttpAuthService
from ..api.services.permissions import GetResources, PermissionRule
from ._conditions import evaluate, validate_conditions

if TYPE_CHECKING:
    from quart import Blueprint

__all__ = [
    "PermissionIntegrationRouter",
    "PermissionResourceType",
    "create_permission_integration_router",
]


@dataclass
class _ResourceType:
    rules: dict[str, PermissionRule] = field(default_factory=dict)
    get_resources: GetResources | None = None


class PermissionIntegrationRouter:
    """The permission integration of one plugin: what ``core.permissionsRegistry`` gives every
    plugin, and what :func:`create_permission_integration_router` builds for a blueprint of
    one's own. Once :meth:`mark_started` ran, additions are refused.
    """

    def __init__(self, plugin_id: str, http_auth: HttpAuthService) -> None:
        self._plugin_id = plugin_id
        self._http_auth = http_auth
        self._permissions: dict[str, JsonObject] = {}
        self._resource_types: dict[str, _ResourceType] = {}
        self._started = False

    def mark_started(self) -> None:
        """The plugin started: later additions are refused (called by a startup hook)."""
        self._started = True

    def _check_open(self, what: str) -> None:
        if self._started:
            raise RuntimeError(f"Cannot add {what} after the plugin has started")

    def _check_resource_type(self, resource_type: str) -> None:
        owner = resource_type.split("-", 1)[0]
        if owner != self._plugin_id:
            raise ValueError(
                f"Resource type '{resource_type}' belongs to plugin '{owner}', but was used with "
                f"plugin '{self._plugin_id}'"
            )

    def add_permissions(self, permissions: Sequence[Mapping[str, Any]]) -> None:
        """Declare permissions (Backstage permission objects with at least ``name``, ``type``)."""
        self._check_open("permissions")
        for permission in permissions:
            name = permission.get("name")
            if not isinstance(name, str) or not name:
                raise ValueError(f"A permission needs a name, got {permission!r}")
            resource_type = permission.get("resourceType")
            if isinstance(resource_type, str):
                self._check_resource_type(resource_type)
            self._permissions[name] = dict(permission)  # a copy: the caller's stays theirs

    def add_permission_rules(self, rules: Sequence[PermissionRule]) -> None:
        """Declare rules; each names a resource type of this plugin; names are unique per type."""
        self._check_open("permission rules")
        for rule in rules:
            self._check_resource_type(rule.resource_type)
            entry = self._resource_types.setdefault(rule.resource_type, _ResourceType())
            if rule.name in entry.rules:
                raise ValueError(
                    f"Refused to add permission rule for type '{rule.resource_type}' with name "
                    f"'{rule.name}' because it already exists"
                )
            entry.rules[rule.name] = rule

    def add_resource_type(
        self,
        *,
        resource_type: str,
        permissions: Sequence[Mapping[str, Any]] = (),
        rules: Sequence[PermissionRule] = (),
        get_resources: GetResources | None = None,
    ) -> None:
        """Declare a resource type (``<pluginId>-<name>``) with its permissions and rules."""
        self._check_open("resource types")
        self._check_resource_type(resource_type)
        entry = self._resource_types.setdefault(resource_type, _ResourceType())
        if get_resources is not None:
            entry.get_resources = get_resources
        self.add_permissions(permissions)
        self.add_permission_rules(rules)

    def get_permission_ruleset(self, resource_type: str) -> dict[str, PermissionRule]:
        """The rules of ``resource_type`` by name."""
        return dict(self._resource_types.get(resource_type, _ResourceType()).rules)

    def metadata(self) -> JsonObject:
        """``{"permissions": [...], "rules": [...]}``: each rule with ``name``, ``description``,
        ``resourceType`` and ``paramsSchema``.
        """
        return {
            "permissions": list(self._permissions.values()),
            "rules": [
                {
                    "name": rule.name,
                    "description": rule.description,
                    "resourceType": rule.resource_type,
                    "paramsSchema": rule.params_schema,
                }
                for entry in self._resource_types.values()
                for rule in entry.rules.values()
            ],
        }

    async def apply_conditions(self, body: Any) -> JsonObject:
        """Backstage's apply-conditions: ``{"items": [{id, resourceRef, resourceType,
        conditions}]}`` -> ``{"items": [{id, result}]}`` (a list of results for a list of refs).
        """
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise InputError("Invalid request body: expected an object with an 'items' list")
        results: list[JsonValue] = []
        for index, item in enumerate(items):
            where = f"items[{index}]"
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise InputError(f"Invalid request body at {where}: expected an id")
            resource_type = item.get("resourceType")
            entry = (
                self._resource_types.get(resource_type) if isinstance(resource_type, str) else None
            )
            if entry is None:
                raise InputError(f"Unexpected resource type: {resource_type}")
            validate_conditions(item.get("conditions"), entry.rules, f"{where}.conditions")
            if entry.get_resources is None:
                raise NotImplementedYetError(
                    f"This plugin does not expose any permission rule for resource type "
                    f"'{resource_type}' that can be applied to loaded resources"
                )
            refs: Any = item.get("resourceRef")
            many = isinstance(refs, list)
            ref_list: list[Any] = refs if many else [refs]
            if not all(isinstance(ref, str) for ref in ref_list):
                raise InputError(f"Invalid resourceRef at {where}")
            resources = list(await entry.get_resources(ref_list))
            decisions: list[JsonValue] = [
                "ALLOW"
                if resource is not None and evaluate(item["conditions"], entry.rules, resource)
                else "DENY"
                for resource in resources
            ]
            results.append({"id": item["id"], "result": decisions if many else decisions[0]})
        return {"items": results}

    def routes(self) -> Blueprint:
        """The integration endpoints under ``/.well-known/backstage/permissions``."""
        # Imported here: permissions, rules and decisions are declared without the HTTP stack
        # (as Backstage's permission-common has no Express), only serving them needs it.
        from quart import Blueprint, request

        routes = Blueprint(f"{self._plugin_id}_permissions_integration", __name__)
        registry = self

        @routes.get("/.well-known/backstage/permissions/metadata")
        async def metadata() -> Any:
            return registry.metadata()

        @routes.post("/.well-known/backstage/permissions/apply-conditions")
        async def apply_conditions() -> Any:
            credentials = await registry._http_auth.credentials(request, allow=["service", "user"])
            principal = credentials.principal
            direct_user = isinstance(principal, BackstageUserPrincipal) and principal.actor is None
            if direct_user or not isinstance(
                principal, BackstageServicePrincipal | BackstageUserPrincipal
            ):
                raise NotAllowedError("Only service or on-behalf-of user credentials are allowed")
            return await registry.apply_conditions(await request.get_json(silent=True))

        return routes


@dataclass(frozen=True)
class PermissionResourceType:
    """One resource type for :func:`create_permission_integration_router` (Backstage's
    ``resources`` entries).
    """

    resource_type: str
    permissions: Sequence[Mapping[str, Any]] = ()
    rules: Sequence[PermissionRule] = ()
    get_resources: GetResources | None = None


def create_permission_integration_router(
    *,
    plugin_id: str,
    http_auth: HttpAuthService,
    permissions: Sequence[Mapping[str, Any]] = (),
    resources: Sequence[PermissionResourceType] = (),
) -> PermissionIntegrationRouter:
    """Backstage's ``createPermissionIntegrationRouter``: the two endpoints the permission
    backend calls on a plugin, for a plugin that mounts them itself::

        router = create_permission_integration_router(
            plugin_id="todo", http_auth=http_auth, permissions=[TODO_CREATE],
            resources=[PermissionResourceType("todo-item", [TODO_READ], [IS_OWNER], load)],
        )
        http_router.use(router.routes())

    Plugins on the default services need not call this: ``core.permissionsRegistry`` serves
    the same endpoints (this is its implementation). ``http_auth`` authenticates callers of
    ``apply-conditions`` (services, or users through a service).
    """
    router = PermissionIntegrationRouter(plugin_id, http_auth)
    router.add_permissions(permissions)
    for resource in resources:
        router.add_resource_type(
            resource_type=resource.resource_type,
            permissions=resource.permissions,
            rules=resource.rules,
            get_resources=resource.get_resources,
        )
    return router
