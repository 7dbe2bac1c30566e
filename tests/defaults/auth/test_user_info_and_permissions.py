"""core.userInfo and core.permissions against fake auth and permission backends."""

from __future__ import annotations

from typing import Any

import pytest
from _support.http import plugin_with_routes
from quart import Blueprint, request

from backstage_runtime.api import core_services
from backstage_runtime.api.errors import ResponseError
from backstage_runtime.testing import mock_credentials

from ._support import fake_auth_backend, real_auth_backend, user_token, whoami_plugin

pytestmark = pytest.mark.anyio


def permission_backend(calls: list[dict[str, Any]], status: int = 200) -> Any:
    """``POST /authorize``: DENY for permission names starting with ``deny``."""
    routes = Blueprint("fake_permission", __name__)

    @routes.post("/authorize")
    async def authorize() -> Any:
        body = await request.get_json()
        calls.append({"body": body, "authorization": request.headers.get("Authorization", "")})
        items = [
            {
                "id": item["id"],
                "result": "DENY" if item["permission"]["name"].startswith("deny") else "ALLOW",
            }
            for item in body["items"]
        ]
        return {"items": items}, status

    return plugin_with_routes("permission", routes)


READ: dict[str, Any] = {
    "permission": {"type": "basic", "name": "catalog.read", "attributes": {"action": "read"}}
}
DENIED: dict[str, Any] = {
    "permission": {"type": "basic", "name": "deny.delete", "attributes": {"action": "delete"}}
}


async def test_permissions_go_to_the_permission_backend_for_users() -> None:
    calls: list[dict[str, Any]] = []
    features = [whoami_plugin("alpha"), fake_auth_backend(), permission_backend(calls)]
    async with real_auth_backend(features, {"permission": {"enabled": True}}) as test:
        auth = await test.get_service(core_services.auth, "alpha")
        permissions = await test.get_service(core_services.permissions, "alpha")
        user = await auth.authenticate(user_token())
        decisions = await permissions.authorize([READ, DENIED], credentials=user)
        service = await auth.get_own_service_credentials()
        service_decisions = await permissions.authorize([READ, DENIED], credentials=service)

    assert decisions == [{"result": "ALLOW"}, {"result": "DENY"}]
    assert len(calls) == 1  # one batch; services are answered locally
    assert [item["permission"]["name"] for item in calls[0]["body"]["items"]] == [
        "catalog.read",
        "deny.delete",
    ]
    assert calls[0]["authorization"].startswith("Bearer ey")  # a plugin token on behalf of jane
    assert service_decisions == [{"result": "ALLOW"}, {"result": "ALLOW"}]


async def test_everything_is_allowed_while_permissions_are_disabled() -> None:
    calls: list[dict[str, Any]] = []
    async with real_auth_backend([whoami_plugin("alpha"), permission_backend(calls)]) as test:
        permissions = await test.get_service(core_services.permissions, "alpha")
        decisions = await permissions.authorize([DENIED], credentials=mock_credentials.user())
    assert decisions == [{"result": "ALLOW"}]
    assert calls == []


async def test_restricted_service_tokens_are_decided_locally() -> None:
    from backstage_runtime.api.services.auth import AccessRestrictions

    async with real_auth_backend(
        [whoami_plugin("alpha")], {"permission": {"enabled": True}}
    ) as test:
        permissions = await test.get_service(core_services.permissions, "alpha")
        restricted = mock_credentials.service(
            "ci", AccessRestrictions(permission_names=("catalog.read",))
        )
        read_only = mock_credentials.service("ci", AccessRestrictions(permission_actions=("read",)))
        by_name = await permissions.authorize([READ, DENIED], credentials=restricted)
        by_action = await permissions.authorize([READ, DENIED], credentials=read_only)
    assert by_name == [{"result": "ALLOW"}, {"result": "DENY"}]
    assert by_action == [{"result": "ALLOW"}, {"result": "DENY"}]


async def test_a_failing_permission_backend_raises_with_its_status() -> None:
    calls: list[dict[str, Any]] = []
    features = [whoami_plugin("alpha"), fake_auth_backend(), permission_backend(calls, status=503)]
    async with real_auth_backend(features, {"permission": {"enabled": True}}) as test:
        auth = await test.get_service(core_services.auth, "alpha")
        permissions = await test.get_service(core_services.permissions, "alpha")
        user = await auth.authenticate(user_token())
        with pytest.raises(ResponseError) as caught:
            await permissions.authorize([READ], credentials=user)
    assert caught.value.status_code == 503


async def test_user_info_reads_the_token_or_asks_the_auth_backend() -> None:
    from joserfc import jwt

    auth_routes = Blueprint("fake_auth_extra", __name__)

    @auth_routes.get("/.well-known/jwks.json")
    async def jwks() -> Any:
        from joserfc.jwk import KeySet

        from ._support import USER_KEY

        return KeySet([USER_KEY]).as_dict(private=False)

    @auth_routes.get("/v1/userinfo")
    async def userinfo() -> Any:
        return {"claims": {"sub": "user:default/jane", "ent": ["group:default/team"]}}

    auth_plugin = plugin_with_routes(
        "auth",
        auth_routes,
        policies=[("/.well-known", "unauthenticated"), ("/v1/userinfo", "user-cookie")],
    )
    async with real_auth_backend([whoami_plugin("alpha"), auth_plugin]) as test:
        auth = await test.get_service(core_services.auth, "alpha")
        user_info = await test.get_service(core_services.user_info, "alpha")
        full = await auth.authenticate(user_token())
        limited_token = (await auth.get_limited_user_token(full)).token
        limited = await auth.authenticate(limited_token, allow_limited_access=True)
        from_token = await user_info.get_user_info(full)
        from_backend = await user_info.get_user_info(limited)
        with pytest.raises(TypeError, match="Only user credentials are supported"):
            await user_info.get_user_info(await auth.get_own_service_credentials())

    assert "ent" not in jwt.decode(limited_token, _key()).claims
    assert from_token.ownership_entity_refs == ("user:default/jane",)
    assert from_backend.user_entity_ref == "user:default/jane"
    assert from_backend.ownership_entity_refs == ("group:default/team",)


def _key() -> Any:
    from ._support import USER_KEY

    return USER_KEY


def batched_permission_backend(calls: list[dict[str, Any]]) -> Any:
    """``POST /authorize`` answering batched items: a result per resource ref, DENY for refs
    ending in ``secret``; basic permissions get one result.
    """
    routes = Blueprint("fake_batched_permission", __name__)

    @routes.post("/authorize")
    async def authorize() -> Any:
        body = await request.get_json()
        calls.append(body)
        items = []
        for item in body["items"]:
            if "resourceRef" in item:
                refs = item["resourceRef"]
                result: Any = ["DENY" if r.endswith("secret") else "ALLOW" for r in refs]
                items.append({"id": item["id"], "result": result or ["ALLOW"]})
            else:
                items.append({"id": item["id"], "result": "ALLOW"})
        return {"items": items}

    return plugin_with_routes("permission", routes)


async def test_batched_requests_send_one_item_per_permission() -> None:
    calls: list[dict[str, Any]] = []
    read_entity: dict[str, Any] = {
        "type": "resource",
        "name": "catalog.entity.read",
        "resourceType": "entity",
    }
    requests: list[dict[str, Any]] = [
        {"permission": read_entity, "resourceRef": "component:default/a"},
        READ,
        {"permission": read_entity, "resourceRef": "component:default/secret"},
        {"permission": read_entity, "resourceRef": "component:default/b"},
        {"permission": read_entity},
    ]
    config = {"permission": {"enabled": True, "EXPERIMENTAL_enableBatchedRequests": True}}
    features = [whoami_plugin("alpha"), fake_auth_backend(), batched_permission_backend(calls)]
    async with real_auth_backend(features, config) as test:
        auth = await test.get_service(core_services.auth, "alpha")
        permissions = await test.get_service(core_services.permissions, "alpha")
        user = await auth.authenticate(user_token())
        decisions = await permissions.authorize(requests, credentials=user)

    assert [d["result"] for d in decisions] == ["ALLOW", "ALLOW", "DENY", "ALLOW", "ALLOW"]
    [body] = calls
    sent = {item["permission"]["name"]: item for item in body["items"]}
    assert set(sent) == {"catalog.entity.read", "catalog.read"}
    assert sent["catalog.entity.read"]["resourceRef"] == [
        "component:default/a",
        "component:default/secret",
        "component:default/b",
    ]
    assert "resourceRef" not in sent["catalog.read"]
