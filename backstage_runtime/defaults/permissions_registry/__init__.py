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

from typing import TYPE_CHECKING

from ..._lazy import lazy_exports
from ._factory import permissions_registry_service_factory

# The registry (and the permissions toolkit under it) loads on first use
# (backstage_runtime._lazy): a backend imports this package for its factory.
if TYPE_CHECKING:
    from ._registry import PermissionsRegistry
else:
    __getattr__, __dir__ = lazy_exports(__name__, {"PermissionsRegistry": "._registry"})

__all__ = [
    "PermissionsRegistry",
    "permissions_registry_service_factory",
]
