"""core.permissionsRegistry: metadata and apply-conditions, as the permission backend calls them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from _support.http import request

from backstage_runtime.api import (
    core_services,
    create_backend_plugin,
    create_permission_rule,
)
from backstage_runtime.testing import mock_credentials, start_test_backend

pytestmark = pytest.mark.anyio

ITEMS = {"todo-item:1": {"owner": "ada"}, "todo-item:2": {"owner": "bob"}}
READ = {
    "type": "resource",
    "name": "todo.item.read",
    "attributes": {"action": "read"},
    "resourceType": "todo-item",
}
IS_OWNER = create_permission_rule(
    name="IS_OWNER",
    description="Owned by the given user",
    resource_type="todo-item",
    apply=lambda item, params: item["owner"] == params["owner"],
    params_schema={"type": "object", "properties": {"owner": {"type": "string"}}},
)
LATE: list[BaseException] = []


async def load(refs: Sequence[str]) -> list[Any]:
    return [ITEMS.get(ref) for ref in refs]


def todo_plugin(*, with_loader: bool = True) -> Any:
    def register(env: Any) -> None:
        def init(registry: Any, lifecycle: Any) -> None:
            registry.add_resource_type(
                resource_type="todo-item",
                permissions=[READ],
                rules=[IS_OWNER],
                get_resources=load if with_loader else None,
            )

            def too_late() -> None:
                try:
                    registry.add_permissions([{"type": "basic", "name": "late"}])
                except RuntimeError as error:
                    LATE.append(error)

            lifecycle.add_startup_hook(too_late)

        env.register_init(
            deps={
                "registry": core_services.permissions_registry,
                "lifecycle": core_services.lifecycle,
            },
            init=init,
        )

    return create_backend_plugin(plugin_id="todo", register=register)


APPLY = "/api/todo/.well-known/backstage/permissions/apply-conditions"
SERVICE = {"Authorization": mock_credentials.service.header("plugin:permission")}


def body(ref: Any, conditions: Any, resource_type: str = "todo-item") -> dict[str, Any]:
    return {
        "items": [
            {"id": "1", "resourceRef": ref, "resourceType": resource_type, "conditions": conditions}
        ]
    }


async def test_metadata_lists_permissions_and_rules() -> None:
    async with start_test_backend(features=[todo_plugin()]) as test:
        reply = await request(
            "GET", await test.url("/api/todo/.well-known/backstage/permissions/metadata")
        )
    assert reply.json() == {
        "permissions": [READ],
        "rules": [
            {
                "name": "IS_OWNER",
                "description": "Owned by the given user",
                "resourceType": "todo-item",
                "paramsSchema": {"type": "object", "properties": {"owner": {"type": "string"}}},
            }
        ],
    }
    assert [str(e) for e in LATE][-1] == "Cannot add permissions after the plugin has started"


async def test_apply_conditions_evaluates_rules_on_loaded_resources() -> None:
    owner_ada = {"rule": "IS_OWNER", "resourceType": "todo-item", "params": {"owner": "ada"}}
    async with start_test_backend(features=[todo_plugin()]) as test:
        url = await test.url(APPLY)
        single = await request("POST", url, json=body("todo-item:1", owner_ada), headers=SERVICE)
        many = await request(
            "POST",
            url,
            json=body(["todo-item:1", "todo-item:2", "todo-item:9"], {"not": owner_ada}),
            headers=SERVICE,
        )
        any_of = await request(
            "POST",
            url,
            json=body("todo-item:2", {"anyOf": [owner_ada, {"not": owner_ada}]}),
            headers=SERVICE,
        )
        direct_user = await request("POST", url, json=body("todo-item:1", owner_ada))
        unknown_type = await request(
            "POST", url, json=body("x", owner_ada, resource_type="todo-other"), headers=SERVICE
        )
        unknown_rule = await request(
            "POST", url, json=body("todo-item:1", {"rule": "NOPE", "params": {}}), headers=SERVICE
        )

    assert single.json() == {"items": [{"id": "1", "result": "ALLOW"}]}
    assert many.json() == {"items": [{"id": "1", "result": ["DENY", "ALLOW", "DENY"]}]}
    assert any_of.json() == {"items": [{"id": "1", "result": "ALLOW"}]}
    assert direct_user.status == 403
    assert (unknown_type.status, unknown_type.json()["error"]["name"]) == (400, "InputError")
    assert unknown_rule.status == 400


async def test_a_resource_type_without_a_loader_answers_501() -> None:
    conditions = {"rule": "IS_OWNER", "resourceType": "todo-item", "params": {"owner": "ada"}}
    async with start_test_backend(features=[todo_plugin(with_loader=False)]) as test:
        reply = await request(
            "POST", await test.url(APPLY), json=body("todo-item:1", conditions), headers=SERVICE
        )
    assert (reply.status, reply.json()["error"]["name"]) == (501, "NotImplementedError")
