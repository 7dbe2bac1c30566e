"""Creating permissions and asking what a permission is about (``permission-common``'s utils)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, overload

from ._types import (
    BasicPermission,
    Permission,
    PermissionAttributes,
    ResourcePermission,
)

__all__ = [
    "create_permission",
    "is_create_permission",
    "is_delete_permission",
    "is_permission",
    "is_read_permission",
    "is_resource_permission",
    "is_update_permission",
]

_ACTIONS = ("create", "read", "update", "delete")


@overload
def create_permission(
    *,
    name: str,
    attributes: PermissionAttributes | None = None,
    resource_type: str,
    default_decision: Literal["ALLOW", "DENY"] | None = None,
) -> ResourcePermission: ...


@overload
def create_permission(
    *,
    name: str,
    attributes: PermissionAttributes | None = None,
    resource_type: None = None,
    default_decision: Literal["ALLOW", "DENY"] | None = None,
) -> BasicPermission: ...


def create_permission(
    *,
    name: str,
    attributes: PermissionAttributes | None = None,
    resource_type: str | None = None,
    default_decision: Literal["ALLOW", "DENY"] | None = None,
) -> Permission:
    """Backstage's ``createPermission``: a resource permission when ``resource_type`` is given,
    else a basic one, as the plain JSON object services and the permission backend exchange::

        TODO_READ = create_permission(
            name="todo.item.read", attributes={"action": "read"}, resource_type="todo-item"
        )
        # {"type": "resource", "name": "todo.item.read", "attributes": {"action": "read"},
        #  "resourceType": "todo-item"}

    Raises :class:`ValueError` for an empty name or an action other than create, read, update
    or delete (Backstage's types rule those out; Python checks them here).
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"A permission needs a non-empty name, got {name!r}")
    copied: PermissionAttributes = {**attributes} if attributes else {}
    action = copied.get("action")
    if "action" in copied and action not in _ACTIONS:
        raise ValueError(
            f"Invalid action {action!r} for permission '{name}': expected one of "
            + ", ".join(_ACTIONS)
        )
    if resource_type:
        resource: ResourcePermission = {
            "type": "resource",
            "name": name,
            "attributes": copied,
            "resourceType": resource_type,
        }
        if default_decision is not None:
            resource["defaultDecision"] = default_decision
        return resource
    basic: BasicPermission = {"type": "basic", "name": name, "attributes": copied}
    if default_decision is not None:
        basic["defaultDecision"] = default_decision
    return basic


def is_permission(permission: Mapping[str, Any], compared: Mapping[str, Any]) -> bool:
    """Whether ``permission`` is ``compared`` (Backstage compares names only)."""
    return permission.get("name") == compared.get("name")


def is_resource_permission(permission: Mapping[str, Any], resource_type: str | None = None) -> bool:
    """Whether ``permission`` is a resource permission (of ``resource_type``, when given)."""
    if "resourceType" not in permission:
        return False
    return not resource_type or permission["resourceType"] == resource_type


def _action(permission: Mapping[str, Any]) -> Any:
    attributes = permission.get("attributes")
    return attributes.get("action") if isinstance(attributes, Mapping) else None


def is_create_permission(permission: Mapping[str, Any]) -> bool:
    """Whether ``permission``'s action is ``create``."""
    return bool(_action(permission) == "create")


def is_read_permission(permission: Mapping[str, Any]) -> bool:
    """Whether ``permission``'s action is ``read``."""
    return bool(_action(permission) == "read")


def is_update_permission(permission: Mapping[str, Any]) -> bool:
    """Whether ``permission``'s action is ``update``."""
    return bool(_action(permission) == "update")


def is_delete_permission(permission: Mapping[str, Any]) -> bool:
    """Whether ``permission``'s action is ``delete``."""
    return bool(_action(permission) == "delete")
