"""Default ``core.permissionsRegistry``: a plugin's permissions, resource types and rules.

Usage in a plugin::

    is_owner = create_permission_rule(
        name="IS_OWNER", description="Owned by the user", resource_type="todo-item",
        apply=lambda item, params: item["owner"] == params["owner"],
        params_schema={"type": "object", "properties": {"owner": {"type": "string"}}},
    )
    registry.add_resource_type(
        resource_type="todo-item", permissions=[TODO_READ], rules=[is_owner],
        get_resources=load_items,
    )

The permission backend reads ``/.well-known/backstage/permissions/metadata`` and calls
``/.well-known/backstage/permissions/apply-conditions`` on the plugin.
"""

from ...permissions._registry import PermissionIntegrationRouter as PermissionsRegistry
from ._factory import permissions_registry_service_factory

__all__ = [
    "PermissionsRegistry",
    "permissions_registry_service_factory",
]
