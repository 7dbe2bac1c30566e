"""Backstage's permission JSON shapes as ``TypedDict`` s: plain dicts at runtime, typed for mypy."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal, NotRequired, TypeAlias, TypedDict

__all__ = [
    "AllOfCriteria",
    "AnyOfCriteria",
    "AuthorizeResult",
    "BasicPermission",
    "ConditionalPolicyDecision",
    "DefinitivePolicyDecision",
    "NotCriteria",
    "Permission",
    "PermissionAction",
    "PermissionAttributes",
    "PermissionCondition",
    "PermissionCriteria",
    "PolicyDecision",
    "ResourcePermission",
]


class AuthorizeResult(StrEnum):
    """A decision's ``result``; each member *is* its wire string (``AuthorizeResult.ALLOW ==
    "ALLOW"``), so it compares equal to decisions read from JSON and serialises as-is.
    """

    DENY = "DENY"
    ALLOW = "ALLOW"
    CONDITIONAL = "CONDITIONAL"


#: The CRUD action a permission is about (``attributes.action``).
PermissionAction: TypeAlias = Literal["create", "read", "update", "delete"]


class PermissionAttributes(TypedDict, total=False):
    """What a permission is about, for policies that decide by kind rather than by name."""

    action: PermissionAction


class BasicPermission(TypedDict):
    """A permission that is not about one resource: ``{"type": "basic", ...}``."""

    type: Literal["basic"]
    name: str
    attributes: PermissionAttributes
    defaultDecision: NotRequired[Literal["ALLOW", "DENY"]]


class ResourcePermission(TypedDict):
    """A permission about resources of one type; policies may answer it conditionally."""

    type: Literal["resource"]
    name: str
    attributes: PermissionAttributes
    resourceType: str
    defaultDecision: NotRequired[Literal["ALLOW", "DENY"]]


#: Either kind of permission.
Permission: TypeAlias = BasicPermission | ResourcePermission


class PermissionCondition(TypedDict):
    """One rule applied with parameters: ``{"rule", "resourceType", "params"?}``."""

    rule: str
    resourceType: str
    params: NotRequired[dict[str, Any]]


class AllOfCriteria(TypedDict):
    """Every child criterion holds."""

    allOf: list[PermissionCriteria]


class AnyOfCriteria(TypedDict):
    """At least one child criterion holds."""

    anyOf: list[PermissionCriteria]


# ``not`` is a Python keyword: only the functional form can name the key.
#: The child criterion does not hold.
NotCriteria = TypedDict("NotCriteria", {"not": "PermissionCriteria"})
NotCriteria.__doc__ = "The child criterion does not hold."

#: Backstage's ``PermissionCriteria<PermissionCondition>``: a condition or a combination.
PermissionCriteria: TypeAlias = AllOfCriteria | AnyOfCriteria | NotCriteria | PermissionCondition


class DefinitivePolicyDecision(TypedDict):
    """``{"result": "ALLOW" | "DENY"}``."""

    result: Literal["ALLOW", "DENY"]


class ConditionalPolicyDecision(TypedDict):
    """Allowed for the resources of ``resourceType`` that meet ``conditions``; the plugin
    ``pluginId`` evaluates them (``apply-conditions``) or turns them into a query.
    """

    result: Literal["CONDITIONAL"]
    pluginId: str
    resourceType: str
    conditions: PermissionCriteria


#: What a permission policy answers.
PolicyDecision: TypeAlias = DefinitivePolicyDecision | ConditionalPolicyDecision
