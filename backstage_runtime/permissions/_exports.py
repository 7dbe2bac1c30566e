"""Condition factories and conditional decisions for policy authors (``createConditionExports``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..api.services.permissions import PermissionRule, create_permission_rule
from ._types import (
    AuthorizeResult,
    ConditionalPolicyDecision,
    PermissionCondition,
    PermissionCriteria,
    ResourcePermission,
)

__all__ = [
    "ConditionExports",
    "ConditionFactory",
    "CreatePermissionRule",
    "PermissionResourceRef",
    "create_condition_exports",
    "create_condition_factory",
    "create_conditional_decision",
    "create_permission_resource_ref",
    "make_create_permission_rule",
]


@dataclass(frozen=True)
class PermissionResourceRef:
    """Backstage's ``PermissionResourceRef``: names a resource type and the plugin that owns
    it, so that condition exports and rules cannot disagree on either.
    """

    plugin_id: str
    resource_type: str


def create_permission_resource_ref(*, plugin_id: str, resource_type: str) -> PermissionResourceRef:
    """Backstage's ``createPermissionResourceRef().with({pluginId, resourceType})``.

    Raises :class:`ValueError` for a resource type that is not ``<pluginId>-<name>`` (what
    ``core.permissionsRegistry`` requires).
    """
    if not resource_type.startswith(f"{plugin_id}-"):
        raise ValueError(
            f"Resource type '{resource_type}' must start with its plugin id: '{plugin_id}-...'"
        )
    return PermissionResourceRef(plugin_id=plugin_id, resource_type=resource_type)


class ConditionFactory(Protocol):
    """Turns a rule's parameters into a condition for a policy's decision."""

    def __call__(self, params: Mapping[str, Any] | None = None, /) -> PermissionCondition:
        """``{"rule", "resourceType", "params"}`` for these parameters."""


def create_condition_factory(rule: PermissionRule) -> ConditionFactory:
    """Backstage's ``createConditionFactory``: ``factory(params)`` gives
    ``{"rule": rule.name, "resourceType": rule.resource_type, "params": params}``.
    """

    def condition(params: Mapping[str, Any] | None = None, /) -> PermissionCondition:
        return {
            "rule": rule.name,
            "resourceType": rule.resource_type,
            "params": dict(params or {}),
        }

    return condition


def create_conditional_decision(
    permission: ResourcePermission, conditions: PermissionCriteria, *, plugin_id: str
) -> ConditionalPolicyDecision:
    """A ``CONDITIONAL`` decision for a resource permission: allowed for the resources of the
    permission's type that meet ``conditions``, which plugin ``plugin_id`` evaluates.

    Raises :class:`ValueError` for a basic permission (only resource permissions can be
    conditional, which Backstage's types enforce).
    """
    resource_type = permission.get("resourceType")
    if not isinstance(resource_type, str) or not resource_type:
        raise ValueError(
            f"Permission '{permission.get('name')}' is not a resource permission; only those "
            "can have a conditional decision"
        )
    return {
        "result": AuthorizeResult.CONDITIONAL.value,
        "pluginId": plugin_id,
        "resourceType": resource_type,
        "conditions": conditions,
    }


@dataclass(frozen=True)
class ConditionExports:
    """What :func:`create_condition_exports` returns: a plugin exports these for policy
    authors.
    """

    plugin_id: str
    resource_type: str
    #: One condition factory per rule, under the key the rule was given with.
    conditions: Mapping[str, ConditionFactory]

    def create_conditional_decision(
        self, permission: ResourcePermission, conditions: PermissionCriteria
    ) -> ConditionalPolicyDecision:
        """``{"result": "CONDITIONAL", "pluginId", "resourceType", "conditions"}`` for this
        plugin's resource type. Raises :class:`ValueError` when ``permission`` is about another
        resource type (its conditions could never be evaluated by this plugin).
        """
        if permission.get("resourceType") != self.resource_type:
            raise ValueError(
                f"Permission '{permission.get('name')}' is about resource type "
                f"'{permission.get('resourceType')}', these conditions are for "
                f"'{self.resource_type}'"
            )
        return create_conditional_decision(permission, conditions, plugin_id=self.plugin_id)


def create_condition_exports(
    *,
    rules: Mapping[str, PermissionRule] | Sequence[PermissionRule],
    plugin_id: str | None = None,
    resource_type: str | None = None,
    resource_ref: PermissionResourceRef | None = None,
) -> ConditionExports:
    """Backstage's ``createConditionExports`` (permission-node's, whose
    ``createConditionalDecision`` takes the permission first)::

        exports = create_condition_exports(
            plugin_id="todo", resource_type="todo-item", rules={"is_owner": IS_OWNER}
        )
        decision = exports.create_conditional_decision(
            TODO_READ, exports.conditions["is_owner"]({"owner": "ada"})
        )

    ``rules`` is a mapping (its keys name the condition factories, as Backstage's record does)
    or a sequence (keyed by rule name). ``resource_ref=`` gives plugin and resource type in one
    (Backstage's newer form). Raises :class:`ValueError` for a rule of another resource type.
    """
    if resource_ref is not None:
        plugin_id, resource_type = resource_ref.plugin_id, resource_ref.resource_type
    if plugin_id is None or resource_type is None:
        raise TypeError(
            "create_condition_exports() needs resource_ref= or plugin_id= and resource_type="
        )
    named = dict(rules) if isinstance(rules, Mapping) else {rule.name: rule for rule in rules}
    for key, rule in named.items():
        if rule.resource_type != resource_type:
            raise ValueError(
                f"Permission rule '{key}' is for resource type '{rule.resource_type}', "
                f"not '{resource_type}'"
            )
    return ConditionExports(
        plugin_id=plugin_id,
        resource_type=resource_type,
        conditions={key: create_condition_factory(rule) for key, rule in named.items()},
    )


class CreatePermissionRule(Protocol):
    """``create_permission_rule`` with the resource type already chosen."""

    def __call__(
        self,
        *,
        name: str,
        description: str,
        apply: Callable[[Any, Mapping[str, Any]], bool],
        params_schema: dict[str, Any] | None = None,
        to_query: Callable[[Mapping[str, Any]], Any] | None = None,
    ) -> PermissionRule:
        """Create one rule for the bound resource type."""


def make_create_permission_rule(
    *, resource_type: str | None = None, resource_ref: PermissionResourceRef | None = None
) -> CreatePermissionRule:
    """Backstage's ``makeCreatePermissionRule``: a ``create_permission_rule`` for one resource
    type (or ``resource_ref``), so that a plugin's rules cannot name another one by mistake.
    """
    if resource_ref is not None:
        resource_type = resource_ref.resource_type
    if resource_type is None:
        raise TypeError("make_create_permission_rule() needs resource_type= or resource_ref=")
    bound: str = resource_type

    def create(
        *,
        name: str,
        description: str,
        apply: Callable[[Any, Mapping[str, Any]], bool],
        params_schema: dict[str, Any] | None = None,
        to_query: Callable[[Mapping[str, Any]], Any] | None = None,
    ) -> PermissionRule:
        return create_permission_rule(
            name=name,
            description=description,
            resource_type=bound,
            apply=apply,
            params_schema=params_schema,
            to_query=to_query,
        )

    return create
