"""Building and reading permission criteria (``allOf`` / ``anyOf`` / ``not`` trees)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._types import AllOfCriteria, AnyOfCriteria, NotCriteria, PermissionCriteria

__all__ = ["all_of", "any_of", "is_and_criteria", "is_not_criteria", "is_or_criteria", "not_"]


def all_of(*criteria: PermissionCriteria) -> AllOfCriteria:
    """``{"allOf": [...]}``: every criterion holds. Backstage's permission backend rejects an
    empty list, so at least one criterion is required.
    """
    if not criteria:
        raise ValueError("all_of() needs at least one criterion")
    return {"allOf": list(criteria)}


def any_of(*criteria: PermissionCriteria) -> AnyOfCriteria:
    """``{"anyOf": [...]}``: at least one criterion holds (at least one is required)."""
    if not criteria:
        raise ValueError("any_of() needs at least one criterion")
    return {"anyOf": list(criteria)}


def not_(criterion: PermissionCriteria) -> NotCriteria:
    """``{"not": ...}``: the criterion does not hold (``not`` is a Python keyword)."""
    return {"not": criterion}


def is_and_criteria(criteria: Mapping[str, Any]) -> bool:
    """Backstage's ``isAndCriteria``: an ``allOf`` node."""
    return "allOf" in criteria


def is_or_criteria(criteria: Mapping[str, Any]) -> bool:
    """Backstage's ``isOrCriteria``: an ``anyOf`` node."""
    return "anyOf" in criteria


def is_not_criteria(criteria: Mapping[str, Any]) -> bool:
    """Backstage's ``isNotCriteria``: a ``not`` node."""
    return "not" in criteria
