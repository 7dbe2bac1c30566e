"""backstage_runtime.permissions: Backstage's permission-common / permission-node helpers."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import pytest
from _support.http import request

import backstage_runtime.api.services.permissions as old_path
from backstage_runtime.api import InputError, core_services, create_backend_plugin
from backstage_runtime.permissions import (
    AuthorizeResult,
    PermissionCondition,
    PermissionResourceType,
    all_of,
    any_of,
    apply_conditions,
    create_condition_exports,
    create_condition_factory,
    create_condition_transformer,
    create_conditional_decision,
    create_permission,
    create_permission_integration_router,
    create_permission_resource_ref,
    create_permission_rule,
    is_and_criteria,
    is_create_permission,
    is_delete_permission,
    is_not_criteria,
    is_or_criteria,
    is_permission,
    is_read_permission,
    is_resource_permission,
    is_update_permission,
    make_create_permission_rule,
    not_,
)
from backstage_runtime.testing import mock_credentials, mock_services, start_test_backend

CREATE = create_permission(name="todo.item.create", attributes={"action": "create"})
READ = create_permission(
    name="todo.item.read", attributes={"action": "read"}, resource_type="todo-item"
)
create_todo_rule = make_create_permission_rule(resource_type="todo-item")
IS_OWNER = create_todo_rule(
    name="IS_OWNER",
    description="Owned by the given user",
    apply=lambda item, params: item["owner"] == params["owner"],
    params_schema={"type": "object", "properties": {"owner": {"type": "string"}}},
)
HAS_TAG = create_todo_rule(
    name="HAS_TAG",
    description="Tagged with the given tag",
    apply=lambda item, params: params["tag"] in item["tags"],
)
IS_OWNER_ADA: Any = {"rule": "IS_OWNER", "resourceType": "todo-item", "params": {"owner": "ada"}}
ITEMS = {
    "todo-item:1": {"owner": "ada", "tags": ["urgent"]},
    "todo-item:2": {"owner": "bob", "tags": []},
}


def test_create_permission_gives_backstage_json() -> None:
    assert CREATE == {
        "type": "basic",
        "name": "todo.item.create",
        "attributes": {"action": "create"},
    }
    assert READ == {
        "type": "resource",
        "name": "todo.item.read",
        "attributes": {"action": "read"},
        "resourceType": "todo-item",
    }
    assert type(READ) is dict
    with_default = create_permission(name="x", attributes={}, default_decision="DENY")
    assert with_default == {
        "type": "basic",
        "name": "x",
        "attributes": {},
        "defaultDecision": "DENY",
    }
    assert create_permission(name="no.attributes") == {
        "type": "basic",
        "name": "no.attributes",
        "attributes": {},
    }


def test_create_permission_does_not_share_the_callers_attributes() -> None:
    attributes: Any = {"action": "read"}
    permission = create_permission(name="a", attributes=attributes)
    attributes["action"] = "delete"
    assert permission["attributes"] == {"action": "read"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "non-empty name"),
        (
            {"name": "a", "attributes": {"action": "destroy"}},
            "Invalid action 'destroy' for permission 'a'",
        ),
    ],
)
def test_create_permission_refuses_bad_input(kwargs: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_permission(**kwargs)


def test_permission_predicates_follow_backstage() -> None:
    assert is_permission(READ, {"name": "todo.item.read"})
    assert not is_permission(READ, CREATE)
    assert is_resource_permission(READ)
    assert is_resource_permission(READ, "todo-item")
    assert not is_resource_permission(READ, "catalog-entity")
    assert not is_resource_permission(CREATE)
    assert is_create_permission(CREATE)
    assert not is_read_permission(CREATE)
    assert is_read_permission(READ)
    assert not is_update_permission(READ)
    assert is_update_permission(create_permission(name="u", attributes={"action": "update"}))
    assert is_delete_permission(create_permission(name="d", attributes={"action": "delete"}))
    assert not is_delete_permission(create_permission(name="none"))


def test_authorize_result_members_are_their_wire_strings() -> None:
    assert [r.value for r in AuthorizeResult] == ["DENY", "ALLOW", "CONDITIONAL"]
    assert AuthorizeResult.ALLOW == "ALLOW"
    assert json.dumps({"result": AuthorizeResult.DENY}) == '{"result": "DENY"}'
    assert AuthorizeResult("CONDITIONAL") is AuthorizeResult.CONDITIONAL


def test_condition_exports_build_conditions_and_decisions() -> None:
    exports = create_condition_exports(
        plugin_id="todo",
        resource_type="todo-item",
        rules={"is_owner": IS_OWNER, "has_tag": HAS_TAG},
    )
    owner = exports.conditions["is_owner"]({"owner": "ada"})
    assert owner == {"rule": "IS_OWNER", "resourceType": "todo-item", "params": {"owner": "ada"}}
    decision = exports.create_conditional_decision(
        READ, any_of(owner, not_(exports.conditions["has_tag"]({"tag": "urgent"})))
    )
    assert decision == {
        "result": "CONDITIONAL",
        "pluginId": "todo",
        "resourceType": "todo-item",
        "conditions": {
            "anyOf": [
                owner,
                {
                    "not": {
                        "rule": "HAS_TAG",
                        "resourceType": "todo-item",
                        "params": {"tag": "urgent"},
                    }
                },
            ]
        },
    }
    assert type(decision["result"]) is str  # plain JSON, not the enum
    by_rule_name = create_condition_exports(
        plugin_id="todo", resource_type="todo-item", rules=[IS_OWNER]
    )
    assert set(by_rule_name.conditions) == {"IS_OWNER"}


def test_condition_exports_refuse_mismatched_resource_types() -> None:
    other_rule = create_permission_rule(
        name="IS_BIG", description="", resource_type="todo-list", apply=lambda r, p: True
    )
    with pytest.raises(ValueError, match="'big' is for resource type 'todo-list', not 'todo-item'"):
        create_condition_exports(
            plugin_id="todo", resource_type="todo-item", rules={"big": other_rule}
        )
    exports = create_condition_exports(
        plugin_id="todo", resource_type="todo-item", rules=[IS_OWNER]
    )
    list_read = create_permission(name="todo.list.read", attributes={}, resource_type="todo-list")
    with pytest.raises(
        ValueError, match=re.escape("'todo.list.read' is about resource type 'todo-list'")
    ):
        exports.create_conditional_decision(
            list_read, {"rule": "IS_OWNER", "resourceType": "todo-item"}
        )
    with pytest.raises(
        ValueError, match=re.escape("'todo.item.create' is not a resource permission")
    ):
        create_conditional_decision(CREATE, not_(IS_OWNER_ADA), plugin_id="todo")  # type: ignore[arg-type]


def test_criteria_helpers() -> None:
    condition = create_condition_factory(IS_OWNER)({"owner": "ada"})
    assert all_of(condition, condition) == {"allOf": [condition, condition]}
    assert is_and_criteria(all_of(condition))
    assert not is_or_criteria(all_of(condition))
    assert is_or_criteria(any_of(condition))
    assert not is_not_criteria(any_of(condition))
    assert is_not_criteria(not_(condition))
    assert not is_and_criteria(condition)
    with pytest.raises(ValueError, match="any_of"):
        any_of()


def test_create_condition_factory_without_params_sends_an_empty_object() -> None:
    assert create_condition_factory(HAS_TAG)(None) == {
        "rule": "HAS_TAG",
        "resourceType": "todo-item",
        "params": {},
    }


def test_apply_conditions_in_memory() -> None:
    owner: PermissionCondition = {
        "rule": "IS_OWNER",
        "resourceType": "todo-item",
        "params": {"owner": "ada"},
    }
    urgent: PermissionCondition = {
        "rule": "HAS_TAG",
        "resourceType": "todo-item",
        "params": {"tag": "urgent"},
    }
    rules = [IS_OWNER, HAS_TAG]
    assert apply_conditions(all_of(owner, urgent), ITEMS["todo-item:1"], rules=rules)
    assert not apply_conditions(all_of(owner, urgent), ITEMS["todo-item:2"], rules=rules)
    assert apply_conditions(not_(owner), ITEMS["todo-item:2"], rules=rules)
    with pytest.raises(InputError, match="Unexpected permission rule 'IS_OWNER'"):
        apply_conditions(owner, ITEMS["todo-item:1"], rules=[HAS_TAG])
    with pytest.raises(InputError, match="expected a non-empty list"):
        apply_conditions({"anyOf": []}, ITEMS["todo-item:1"], rules=rules)


def test_old_import_paths_are_the_same_objects() -> None:
    assert create_permission_rule is old_path.create_permission_rule
    assert create_condition_transformer is old_path.create_condition_transformer


async def _load(refs: Sequence[str]) -> list[Any]:
    return [ITEMS.get(ref) for ref in refs]


def _plugin_with_own_router() -> Any:
    def register(env: Any) -> None:
        def init(http: Any, http_auth: Any) -> None:
            router = create_permission_integration_router(
                plugin_id="todo",
                http_auth=http_auth,
                permissions=[CREATE],
                resources=[PermissionResourceType("todo-item", [READ], [IS_OWNER, HAS_TAG], _load)],
            )
            http.use(router.routes())

        env.register_init(
            deps={"http": core_services.http_router, "http_auth": core_services.http_auth},
            init=init,
        )

    return create_backend_plugin(plugin_id="todo", register=register)


@pytest.mark.anyio
async def test_an_own_integration_router_serves_metadata_and_apply_conditions() -> None:
    exports = create_condition_exports(
        plugin_id="todo", resource_type="todo-item", rules={"is_owner": IS_OWNER}
    )
    decision = exports.create_conditional_decision(
        READ, exports.conditions["is_owner"]({"owner": "ada"})
    )
    service = {"Authorization": mock_credentials.service.header("plugin:permission")}
    base = "/api/todo/.well-known/backstage/permissions"
    async with start_test_backend(features=[_plugin_with_own_router()]) as test:
        metadata = await request("GET", await test.url(f"{base}/metadata"))
        apply = await request(
            "POST",
            await test.url(f"{base}/apply-conditions"),
            json={
                "items": [
                    {
                        "id": "a",
                        "resourceRef": ["todo-item:1", "todo-item:2"],
                        "resourceType": decision["resourceType"],
                        "conditions": decision["conditions"],
                    }
                ]
            },
            headers=service,
        )
        garbage = await request(
            "POST", await test.url(f"{base}/apply-conditions"), data=b"{nope", headers=service
        )
        direct_user = await request(
            "POST", await test.url(f"{base}/apply-conditions"), json={"items": []}
        )

    assert metadata.json()["permissions"] == [CREATE, READ]
    assert [rule["name"] for rule in metadata.json()["rules"]] == ["IS_OWNER", "HAS_TAG"]
    assert apply.json() == {"items": [{"id": "a", "result": ["ALLOW", "DENY"]}]}
    assert (garbage.status, garbage.json()["error"]["name"]) == (400, "InputError")
    assert direct_user.status == 403


@pytest.mark.anyio
async def test_created_permissions_go_into_core_permissions_requests() -> None:
    seen: list[Any] = []

    def register(env: Any) -> None:
        async def init(permissions: Any) -> None:
            seen.extend(
                await permissions.authorize(
                    [{"permission": CREATE}, {"permission": READ, "resourceRef": "todo-item:1"}],
                    credentials=mock_credentials.user(),
                )
            )

        env.register_init(deps={"permissions": core_services.permissions}, init=init)

    plugin = create_backend_plugin(plugin_id="todo", register=register)
    async with start_test_backend(
        features=[plugin, mock_services.permissions.factory(result="DENY")]
    ):
        pass
    assert seen == [{"result": AuthorizeResult.DENY}, {"result": AuthorizeResult.DENY}]


def _nested(depth: int) -> Any:
    criteria: Any = IS_OWNER_ADA
    for _ in range(depth):
        criteria = {"not": criteria}
    return criteria


def test_deeply_nested_criteria_are_refused_as_input() -> None:
    assert apply_conditions(_nested(64), ITEMS["todo-item:1"], rules=[IS_OWNER])
    with pytest.raises(InputError, match="criteria nest deeper than 64 levels"):
        apply_conditions(_nested(65), ITEMS["todo-item:1"], rules=[IS_OWNER])


@pytest.mark.anyio
@pytest.mark.parametrize("depth", [65, 5000])
async def test_hostile_apply_conditions_bodies_get_400(depth: int) -> None:
    service = {"Authorization": mock_credentials.service.header("plugin:permission")}
    # Built as text: json.dumps itself cannot nest this deep.
    conditions = '{"not":' * depth + json.dumps(IS_OWNER_ADA) + "}" * depth
    item = '"id": "x", "resourceRef": "todo-item:1", "resourceType": "todo-item"'
    body = '{"items": [{' + item + ', "conditions": ' + conditions + "}]}"
    async with start_test_backend(features=[_plugin_with_own_router()]) as test:
        reply = await request(
            "POST",
            await test.url("/api/todo/.well-known/backstage/permissions/apply-conditions"),
            data=body,
            headers={**service, "Content-Type": "application/json"},
        )
    assert (reply.status, reply.json()["error"]["name"]) == (400, "InputError")


def test_a_resource_ref_names_plugin_and_type_once() -> None:
    ref = create_permission_resource_ref(plugin_id="todo", resource_type="todo-item")
    rule = make_create_permission_rule(resource_ref=ref)(
        name="IS_DONE", description="Done", apply=lambda item, params: bool(item.get("done"))
    )
    assert rule.resource_type == "todo-item"
    exports = create_condition_exports(resource_ref=ref, rules=[rule])
    decision = exports.create_conditional_decision(READ, exports.conditions["IS_DONE"]())
    assert (decision["pluginId"], decision["resourceType"]) == ("todo", "todo-item")
    with pytest.raises(ValueError, match=re.escape("must start with its plugin id: 'todo-...'")):
        create_permission_resource_ref(plugin_id="todo", resource_type="catalog-entity")
    with pytest.raises(TypeError, match="needs resource_ref= or plugin_id= and resource_type="):
        create_condition_exports(rules=[rule], plugin_id="todo")
