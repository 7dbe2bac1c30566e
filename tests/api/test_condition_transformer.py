"""``create_condition_transformer``: conditional decisions as database filters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from backstage_runtime.api import create_condition_transformer, create_permission_rule
from backstage_runtime.api.errors import InputError

pytestmark = pytest.mark.anyio

metadata = sa.MetaData()
entities = sa.Table(
    "entities",
    metadata,
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("owner", sa.String),
    sa.Column("tag", sa.String),
)
ROWS = [
    {"name": "a", "owner": "team-a", "tag": "public"},
    {"name": "b", "owner": "team-b", "tag": "internal"},
    {"name": "c", "owner": "team-a", "tag": "internal"},
    {"name": "d", "owner": "team-c", "tag": "public"},
]

is_owner = create_permission_rule(
    name="IS_OWNER",
    description="Owned by the given group",
    resource_type="entity",
    apply=lambda entity, params: entity["owner"] == params["owner"],
    to_query=lambda params: entities.c.owner == params["owner"],
)
has_tag = create_permission_rule(
    name="HAS_TAG",
    description="Tagged with the given tag",
    resource_type="entity",
    apply=lambda entity, params: entity["tag"] == params["tag"],
    to_query=lambda params: entities.c.tag == params["tag"],
)


def to_clause(criteria: Any) -> Any:
    """How a plugin folds the transformed criteria into one SQLAlchemy clause."""
    if isinstance(criteria, Mapping):
        if "allOf" in criteria:
            return sa.and_(*(to_clause(child) for child in criteria["allOf"]))
        if "anyOf" in criteria:
            return sa.or_(*(to_clause(child) for child in criteria["anyOf"]))
        if "not" in criteria:
            return sa.not_(to_clause(criteria["not"]))
    return criteria


def matches(criteria: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    if "allOf" in criteria:
        return all(matches(child, row) for child in criteria["allOf"])
    if "anyOf" in criteria:
        return any(matches(child, row) for child in criteria["anyOf"])
    if "not" in criteria:
        return not matches(criteria["not"], row)
    rule = {"IS_OWNER": is_owner, "HAS_TAG": has_tag}[criteria["rule"]]
    return rule.apply(row, criteria["params"])


CONDITIONS = {
    "anyOf": [
        {"rule": "IS_OWNER", "params": {"owner": "team-b"}},
        {
            "allOf": [
                {"rule": "IS_OWNER", "params": {"owner": "team-a"}},
                {"not": {"rule": "HAS_TAG", "params": {"tag": "internal"}}},
            ]
        },
    ]
}


async def test_conditions_filter_in_the_database_as_apply_does_in_memory() -> None:
    transform = create_condition_transformer([is_owner, has_tag])
    query = transform(CONDITIONS)
    # The criteria keep their shape; each rule became its query fragment.
    assert list(query) == ["anyOf"]
    assert list(query["anyOf"][1]["allOf"][1]) == ["not"]

    engine = create_async_engine("sqlite+aiosqlite://")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.execute(entities.insert(), ROWS)
            result = await connection.execute(
                sa.select(entities.c.name).where(to_clause(query)).order_by(entities.c.name)
            )
            filtered = [row.name for row in result]
    finally:
        await engine.dispose()
    assert filtered == [row["name"] for row in ROWS if matches(CONDITIONS, row)] == ["a", "b"]


def test_unknown_rules_and_rules_without_a_query_are_refused() -> None:
    no_query = create_permission_rule(
        name="NO_QUERY", description="", resource_type="entity", apply=lambda e, p: True
    )
    transform = create_condition_transformer([is_owner, no_query])
    with pytest.raises(InputError, match="Unexpected permission rule: HAS_TAG"):
        transform({"not": {"rule": "HAS_TAG", "params": {"tag": "x"}}})
    with pytest.raises(InputError, match="Permission rule 'NO_QUERY' has no to_query"):
        transform({"allOf": [{"rule": "NO_QUERY", "params": {}}]})
