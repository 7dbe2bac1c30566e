"""Evaluating a permission policy's conditions against a loaded resource."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..api.errors import InputError
from ..api.services.permissions import PermissionRule

__all__ = ["MAX_CRITERIA_DEPTH", "apply_conditions", "evaluate", "validate_conditions"]


#: How deeply criteria may nest. Policies write a few levels; a request nesting thousands would
#: only exhaust the interpreter's stack, so it is refused as bad input first.
MAX_CRITERIA_DEPTH = 64


def validate_conditions(
    conditions: Any, rules: Mapping[str, PermissionRule], where: str, depth: int = 0
) -> None:
    """Raise :class:`InputError` naming the problem when ``conditions`` are malformed, nest
    deeper than :data:`MAX_CRITERIA_DEPTH`, or name a rule this resource type does not have.
    """
    if depth > MAX_CRITERIA_DEPTH:
        root = ".".join(where.split(".")[:2])
        raise InputError(
            f"Invalid conditions at {root}: criteria nest deeper than {MAX_CRITERIA_DEPTH} levels"
        )
    if not isinstance(conditions, dict):
        raise InputError(f"Invalid conditions at {where}: expected an object")
    if "anyOf" in conditions or "allOf" in conditions:
        key = "anyOf" if "anyOf" in conditions else "allOf"
        children = conditions[key]
        if not isinstance(children, list) or not children:
            raise InputError(f"Invalid conditions at {where}.{key}: expected a non-empty list")
        for index, child in enumerate(children):
            validate_conditions(child, rules, f"{where}.{key}[{index}]", depth + 1)
        return
    if "not" in conditions:
        validate_conditions(conditions["not"], rules, f"{where}.not", depth + 1)
        return
    rule = conditions.get("rule")
    if not isinstance(rule, str):
        raise InputError(f"Invalid conditions at {where}: expected rule, anyOf, allOf or not")
    if rule not in rules:
        raise InputError(f"Unexpected permission rule '{rule}' at {where}")
    params = conditions.get("params", {})
    if not isinstance(params, dict):
        raise InputError(f"Invalid params at {where}.params: expected an object")


def evaluate(
    conditions: Mapping[str, Any], rules: Mapping[str, PermissionRule], resource: Any
) -> bool:
    """Whether ``resource`` satisfies ``conditions`` (already validated)."""
    if "anyOf" in conditions:
        return any(evaluate(child, rules, resource) for child in conditions["anyOf"])
    if "allOf" in conditions:
        return all(evaluate(child, rules, resource) for child in conditions["allOf"])
    if "not" in conditions:
        return not evaluate(conditions["not"], rules, resource)
    rule = rules[conditions["rule"]]
    return bool(rule.apply(resource, conditions.get("params") or {}))


def apply_conditions(
    conditions: Mapping[str, Any], resource: Any, *, rules: Sequence[PermissionRule]
) -> bool:
    """Whether a loaded ``resource`` meets a conditional decision's ``conditions``, using
    ``rules`` (what ``apply-conditions`` does per resource, for a plugin holding the decision
    itself). Raises :class:`InputError` for malformed conditions or an unknown rule.
    """
    by_name = {rule.name: rule for rule in rules}
    validate_conditions(conditions, by_name, "conditions")
    return evaluate(conditions, by_name, resource)
