"""``core.permissions`` and ``core.permissionsRegistry``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..._public import publish_lazy_module
from ..errors import InputError
from ._json import JsonObject
from .auth import BackstageCredentials

__all__ = [
    "ConditionTransformer",
    "GetResources",
    "PermissionRule",
    "PermissionsRegistryService",
    "PermissionsService",
    "create_condition_transformer",
    "create_permission_rule",
]


class PermissionsService(Protocol):
    """Asks the permission framework for decisions."""

    async def authorize(
        self,
        requests: Sequence[Mapping[str, Any]],
        *,
        credentials: BackstageCredentials | None = None,
        token: str | None = None,
    ) -> list[JsonObject]:
        """One ``{"result": "ALLOW"|"DENY"}`` decision per request, in order (``token=`` is the
        legacy form of ``credentials=``).
        """

    async def authorize_conditional(
        self,
        requests: Sequence[Mapping[str, Any]],
        *,
        credentials: BackstageCredentials | None = None,
        token: str | None = None,
    ) -> list[JsonObject]:
        """Like :meth:`authorize`, but may answer ``CONDITIONAL`` with conditions."""


@dataclass(frozen=True)
class PermissionRule:
    """A rule a permission policy can put in conditions for one resource type.

    ``apply(resource, params)`` says whether a loaded resource passes; ``to_query(params)``
    gives the same test as a query fragment of the plugin's own (a SQLAlchemy clause, say) so
    that conditional decisions can filter in the database (see
    :func:`create_condition_transformer`); ``params_schema`` (a JSON schema) is published on
    the plugin's permission metadata endpoint.
    """

    name: str
    description: str
    resource_type: str
    apply: Callable[[Any, Mapping[str, Any]], bool]
    params_schema: JsonObject = field(default_factory=dict)
    to_query: Callable[[Mapping[str, Any]], Any] | None = None


def create_permission_rule(
    *,
    name: str,
    description: str,
    resource_type: str,
    apply: Callable[[Any, Mapping[str, Any]], bool],
    params_schema: JsonObject | None = None,
    to_query: Callable[[Mapping[str, Any]], Any] | None = None,
) -> PermissionRule:
    """Backstage's ``createPermissionRule``."""
    return PermissionRule(name, description, resource_type, apply, params_schema or {}, to_query)


#: Turns a conditional decision's ``conditions`` into the same ``allOf``/``anyOf``/``not``
#: shape with each rule replaced by its query fragment.
ConditionTransformer = Callable[[Mapping[str, Any]], Any]


def create_condition_transformer(rules: Sequence[PermissionRule]) -> ConditionTransformer:
    """Backstage's ``createConditionTransformer``: for a ``CONDITIONAL`` decision, map its
    ``conditions`` through each rule's ``to_query``, keeping the criteria's shape::

        transform = create_condition_transformer([is_owner, has_tag])
        decision = (await permissions.authorize_conditional([...], credentials=c))[0]
        if decision["result"] == "CONDITIONAL":
            query = transform(decision["conditions"])   # e.g. {"anyOf": [<clause>, <clause>]}

    Raises :class:`~backstage_runtime.api.errors.InputError` for a rule not in ``rules`` or one
    without ``to_query``.
    """
    by_name = {rule.name: rule for rule in rules}

    def transform(criteria: Mapping[str, Any]) -> Any:
        if "allOf" in criteria:
            return {"allOf": [transform(child) for child in criteria["allOf"]]}
        if "anyOf" in criteria:
            return {"anyOf": [transform(child) for child in criteria["anyOf"]]}
        if "not" in criteria:
            return {"not": transform(criteria["not"])}
        name = criteria.get("rule")
        rule = by_name.get(name) if isinstance(name, str) else None
        if rule is None:
            raise InputError(f"Unexpected permission rule: {name}")
        if rule.to_query is None:
            raise InputError(f"Permission rule '{rule.name}' has no to_query")
        return rule.to_query(criteria.get("params") or {})

    return transform


#: Loads resources by ref for the apply-conditions endpoint (None for a ref that does not exist).
GetResources = Callable[[Sequence[str]], Awaitable[Sequence[Any | None]]]


class PermissionsRegistryService(Protocol):
    """Lets a plugin declare its permissions, resource types and rules; they are served on
    ``/.well-known/backstage/permissions/metadata`` and used by ``.../apply-conditions``.
    """

    def add_permissions(self, permissions: Sequence[Mapping[str, Any]]) -> None:
        """Declare permissions served on the plugin's permission metadata endpoint."""

    def add_permission_rules(self, rules: Sequence[PermissionRule]) -> None:
        """Declare rules for resource types already added."""

    def add_resource_type(
        self,
        *,
        resource_type: str,
        permissions: Sequence[Mapping[str, Any]] = (),
        rules: Sequence[PermissionRule] = (),
        get_resources: GetResources | None = None,
    ) -> None:
        """Declare a resource type of this plugin with its permissions and rules."""


# Loaded on first use (backstage_runtime.api is lazy for it): the names take their public module
# here, however this module was first imported.
publish_lazy_module(globals())
