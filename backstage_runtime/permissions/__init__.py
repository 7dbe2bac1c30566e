"""Permission helpers for plugin authors: Backstage's ``plugin-permission-common`` and
``plugin-permission-node`` in Python, with Backstage's JSON shapes on the wire::

    from backstage_runtime.permissions import (
        AuthorizeResult, create_condition_exports, create_permission, create_permission_rule,
    )

    TODO_READ = create_permission(
        name="todo.item.read", attributes={"action": "read"}, resource_type="todo-item"
    )
    IS_OWNER = create_permission_rule(
        name="IS_OWNER", description="Owned by the user", resource_type="todo-item",
        apply=lambda item, params: item["owner"] == params["owner"],
    )
    exports = create_condition_exports(
        plugin_id="todo", resource_type="todo-item", rules={"is_owner": IS_OWNER}
    )

Permissions and decisions are plain dicts (typed as ``TypedDict`` s), so they go straight into
``core.permissions`` requests and ``core.permissionsRegistry``.
"""

from ..api.services.permissions import (
    ConditionTransformer,
    GetResources,
    PermissionRule,
    create_condition_transformer,
    create_permission_rule,
)
from ._conditions import apply_conditions
from ._criteria import all_of, any_of, is_and_criteria, is_not_criteria, is_or_criteria, not_
from ._exports import (
    ConditionExports,
    ConditionFactory,
    CreatePermissionRule,
    PermissionResourceRef,
    create_condition_exports,
    create_condition_factory,
    create_conditional_decision,
    create_permission_resource_ref,
    make_create_permission_rule,
)
from ._permission import (
    create_permission,
    is_create_permission,
    is_delete_permission,
    is_permission,
    is_read_permission,
    is_resource_permission,
    is_update_permission,
)
from ._registry import (
    PermissionIntegrationRouter,
    PermissionResourceType,
    create_permission_integration_router,
)
from ._types import (
    AllOfCriteria,
    AnyOfCriteria,
    AuthorizeResult,
    BasicPermission,
    ConditionalPolicyDecision,
    DefinitivePolicyDecision,
    NotCriteria,
    Permission,
    PermissionAction,
    PermissionAttributes,
    PermissionCondition,
    PermissionCriteria,
    PolicyDecision,
    ResourcePermission,
)

__all__ = [
    "AllOfCriteria",
    "AnyOfCriteria",
    "AuthorizeResult",
    "BasicPermission",
    "ConditionExports",
    "ConditionFactory",
    "ConditionTransformer",
    "ConditionalPolicyDecision",
    "CreatePermissionRule",
    "DefinitivePolicyDecision",
    "GetResources",
    "NotCriteria",
    "Permission",
    "PermissionAction",
    "PermissionAttributes",
    "PermissionCondition",
    "PermissionCriteria",
    "PermissionIntegrationRouter",
    "PermissionResourceRef",
    "PermissionResourceType",
    "PermissionRule",
    "PolicyDecision",
    "ResourcePermission",
    "all_of",
    "any_of",
    "apply_conditions",
    "create_condition_exports",
    "create_condition_factory",
    "create_condition_transformer",
    "create_conditional_decision",
    "create_permission",
    "create_permission_integration_router",
    "create_permission_resource_ref",
    "create_permission_rule",
    "is_and_criteria",
    "is_create_permission",
    "is_delete_permission",
    "is_not_criteria",
    "is_or_criteria",
    "is_permission",
    "is_read_permission",
    "is_resource_permission",
    "is_update_permission",
    "make_create_permission_rule",
    "not_",
]
