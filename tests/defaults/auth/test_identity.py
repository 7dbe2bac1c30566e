"""The legacy identity service, and permissions.authorize(token=...) used with it."""

from __future__ import annotations

from typing import Any

import pytest
from _support.http import request
from quart import Blueprint
from quart import request as quart_request

from backstage_runtime.api import core_services, create_backend_plugin
from backstage_runtime.defaults.identity import identity_service_factory

from ._support import fake_auth_backend, real_auth_backend, user_token

pytestmark = pytest.mark.anyio


def legacy_plugin() -> Any:
    def register(env: Any) -> None:
        def init(http: Any, identity: Any, permissions: Any) -> None:
            routes = Blueprint("legacy", __name__)

            @routes.get("/test-me")
            async def test_me() -> Any:
                found = await identity.get_identity(request=quart_request)
                if found is None:
                    return {"identity": None}
                decisions = await permissions.authorize(
                    [{"permission": {"type": "basic", "name": "x", "attributes": {}}}],
                    token=found.token,
                )
                return {
                    "userEntityRef": found.identity.user_entity_ref,
                    "ownershipEntityRefs": list(found.identity.ownership_entity_refs),
                    "decision": decisions[0]["result"],
                }

            http.use(routes)
            http.add_auth_policy(path="/test-me", allow="unauthenticated")

        env.register_init(
            deps={
                "http": core_services.http_router,
                "identity": core_services.identity,
                "permissions": core_services.permissions,
            },
            init=init,
        )

    return create_backend_plugin(plugin_id="legacy", register=register)


async def test_get_identity_verifies_the_user_token() -> None:
    features = [legacy_plugin(), fake_auth_backend(), identity_service_factory()]
    async with real_auth_backend(features) as test:
        url = await test.url("/api/legacy/test-me")
        with_token = await request("GET", url, headers={"Authorization": f"Bearer {user_token()}"})
        without = await request("GET", url)
        forged = await request("GET", url, headers={"Authorization": "Bearer a.b.c"})

    assert with_token.json() == {
        "userEntityRef": "user:default/jane",
        "ownershipEntityRefs": ["user:default/jane"],
        "decision": "ALLOW",
    }
    assert without.json() == {"identity": None}
    assert (forged.status, forged.json()["error"]["name"]) == (401, "AuthenticationError")


async def test_the_issuer_is_checked_when_configured() -> None:
    features = [legacy_plugin(), fake_auth_backend(), identity_service_factory(issuer="other")]
    async with real_auth_backend(features) as test:
        reply = await request(
            "GET",
            await test.url("/api/legacy/test-me"),
            headers={"Authorization": f"Bearer {user_token()}"},
        )
    assert reply.status == 401
