"""The actions routes on a real Hypercorn socket: listing, invoking, Node's caller rules, input
errors as Backstage error JSON and actions hidden by their visibility permission.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from _support.http import request

from backstage_runtime.api import (
    ActionAttributes,
    ActionContext,
    actions_registry_service_ref,
    core_services,
    create_backend_plugin,
    create_service_factory,
    create_service_ref,
)
from backstage_runtime.api.services.auth import BackstageCredentials
from backstage_runtime.testing import mock_credentials, start_test_backend

pytestmark = pytest.mark.anyio

SECRET = {"type": "basic", "name": "secret.read", "attributes": {"action": "read"}}
ECHO_SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string"}, "count": {"type": "integer", "minimum": 1}},
    "required": ["text"],
}


class DenySecrets:
    """Denies ``secret.read`` to everybody and records who asked."""

    def __init__(self) -> None:
        self.asked: list[BackstageCredentials | None] = []

    async def authorize(
        self,
        requests: Sequence[Any],
        *,
        credentials: BackstageCredentials | None = None,
        token: str | None = None,
    ) -> list[Any]:
        self.asked.append(credentials)
        return [
            {"result": "DENY" if r["permission"]["name"] == "secret.read" else "ALLOW"}
            for r in requests
        ]

    async def authorize_conditional(self, requests: Sequence[Any], **kwargs: Any) -> list[Any]:
        return await self.authorize(requests, **kwargs)


async def echo(context: ActionContext) -> Any:
    return {"echo": context.input["text"] * context.input.get("count", 1)}


async def secret(context: ActionContext) -> Any:
    return {"secret": 42}


def greeter(ref: Any = actions_registry_service_ref) -> Any:
    def register(env: Any) -> None:
        def init(actions: Any) -> None:
            actions.register(
                name="echo",
                title="Echo",
                description="Repeats text",
                action=echo,
                input_schema=ECHO_SCHEMA,
                attributes=ActionAttributes(destructive=False, read_only=True),
            )
            actions.register(
                name="secret",
                title="Secret",
                description="Hidden",
                action=secret,
                visibility_permission=SECRET,
            )

        env.register_init(deps={"actions": ref}, init=init)

    return create_backend_plugin(plugin_id="greeter", register=register)


def bystander() -> Any:
    def register(env: Any) -> None:
        env.register_init(deps={"http": core_services.http_router}, init=lambda http: None)

    return create_backend_plugin(plugin_id="bystander", register=register)


def permissions_factory(permissions: DenySecrets) -> Any:
    return create_service_factory(service=core_services.permissions, factory=lambda: permissions)


SERVICE = mock_credentials.service.headers("plugin:caller")


async def test_list_and_invoke_with_a_service_token() -> None:
    permissions = DenySecrets()
    features = [greeter(), bystander(), permissions_factory(permissions)]
    async with start_test_backend(features=features) as backend:
        base = await backend.url("/api/greeter/.backstage/actions/v1/actions")
        listing = await request("GET", base, headers=SERVICE)
        invoked = await request(
            "POST",
            f"{base}/greeter:echo/invoke",
            headers=SERVICE,
            json={"text": "ab", "count": 2},
        )
        elsewhere = await request(
            "GET",
            await backend.url("/api/bystander/.backstage/actions/v1/actions"),
            headers=SERVICE,
        )

    assert listing.status == 200
    [action] = listing.json()["actions"]  # the secret one is hidden
    assert action == {
        "id": "greeter:echo",
        "name": "echo",
        "title": "Echo",
        "description": "Repeats text",
        "pluginId": "greeter",
        "attributes": {"destructive": False, "idempotent": False, "readOnly": True},
        "schema": {
            "input": ECHO_SCHEMA,
            "output": {
                "type": "object",
                "properties": {},
                "additionalProperties": False,
                "$schema": "http://json-schema.org/draft-07/schema#",
            },
        },
    }
    assert (invoked.status, invoked.json()) == (200, {"output": {"echo": "abab"}})
    # The permission was asked with the caller's credentials.
    assert permissions.asked[0] is not None
    assert permissions.asked[0].principal.to_json() == {
        "type": "service",
        "subject": "plugin:caller",
    }
    # A plugin that does not use the registry has no actions routes.
    assert elsewhere.status == 404


async def test_a_user_token_may_list_and_invoke_and_anonymous_gets_neither() -> None:
    async with start_test_backend(features=[greeter()]) as backend:
        base = await backend.url("/api/greeter/.backstage/actions/v1/actions")
        user = mock_credentials.user.headers()
        listed = await request("GET", base, headers=user)
        invoked = await request(
            "POST", f"{base}/greeter:echo/invoke", headers=user, json={"text": "a"}
        )
        anonymous = await request(
            "POST",
            f"{base}/greeter:echo/invoke",
            headers=mock_credentials.none.headers(),
            json={"text": "a"},
        )

    assert listed.status == 200
    # As Node's registry (backend-defaults 0.18): a user's own token may invoke.
    assert (invoked.status, invoked.json()) == (200, {"output": {"echo": "a"}})
    assert anonymous.status == 401


async def test_invalid_input_is_a_400_input_error_naming_the_field() -> None:
    async with start_test_backend(features=[greeter()]) as backend:
        base = await backend.url("/api/greeter/.backstage/actions/v1/actions/greeter:echo/invoke")
        wrong_type = await request("POST", base, headers=SERVICE, json={"text": "a", "count": 0})
        missing = await request("POST", base, headers=SERVICE)
        not_json = await request(
            "POST", base, headers={**SERVICE, "Content-Type": "application/json"}, data=b"{nope"
        )

    assert wrong_type.status == 400
    error = wrong_type.json()["error"]
    assert error["name"] == "InputError"
    assert error["message"] == (
        'Invalid input to action "greeter:echo": count: 0 is less than the minimum of 1'
    )
    assert wrong_type.json()["request"]["method"] == "POST"
    assert missing.status == 400
    assert "'text' is a required property" in missing.json()["error"]["message"]
    assert not_json.status == 400
    assert not_json.json()["error"]["name"] == "InputError"


async def test_a_denied_or_unknown_action_is_not_found() -> None:
    features = [greeter(), permissions_factory(DenySecrets())]
    async with start_test_backend(features=features) as backend:
        base = await backend.url("/api/greeter/.backstage/actions/v1/actions")
        denied = await request("POST", f"{base}/greeter:secret/invoke", headers=SERVICE, json={})
        unknown = await request("POST", f"{base}/greeter:nope/invoke", headers=SERVICE, json={})

    assert denied.status == 404
    assert denied.json()["error"] == {
        "name": "NotFoundError",
        "message": 'Action "greeter:secret" not found',
    }
    assert unknown.json()["error"]["message"] == 'Action "greeter:nope" not found'


async def test_an_allowed_secret_is_listed_with_its_permission() -> None:
    async with start_test_backend(features=[greeter()]) as backend:
        base = await backend.url("/api/greeter/.backstage/actions/v1/actions")
        listing = await request("GET", base, headers=SERVICE)
        invoked = await request("POST", f"{base}/greeter:secret/invoke", headers=SERVICE)

    ids = {action["id"]: action for action in listing.json()["actions"]}
    assert ids["greeter:secret"]["visibilityPermission"] == {
        "name": "secret.read",
        "attributes": {"action": "read"},
    }
    assert invoked.json() == {"output": {"secret": 42}}


async def test_a_failing_action_answers_with_its_own_error_json() -> None:
    async def broken(context: ActionContext) -> Any:
        raise RuntimeError("database on fire")

    def register(env: Any) -> None:
        def init(actions: Any) -> None:
            actions.register(name="broken", title="t", description="d", action=broken)

        env.register_init(deps={"actions": actions_registry_service_ref}, init=init)

    plugin = create_backend_plugin(plugin_id="fragile", register=register)
    async with start_test_backend(features=[plugin]) as backend:
        url = await backend.url("/api/fragile/.backstage/actions/v1/actions/fragile:broken/invoke")
        reply = await request("POST", url, headers=SERVICE, json={})

    assert reply.status == 500
    body = reply.json()
    assert body["error"]["message"] == "database on fire"


async def test_the_alpha_id_is_the_same_registry() -> None:
    alpha: Any = create_service_ref(id="alpha.core.actionsRegistry")
    seen: list[Any] = []

    def register(env: Any) -> None:
        def init(actions: Any, alpha_actions: Any) -> None:
            seen.extend([actions, alpha_actions])
            alpha_actions.register(name="hi", title="t", description="d", action=secret)

        env.register_init(
            deps={"actions": actions_registry_service_ref, "alpha_actions": alpha}, init=init
        )

    plugin = create_backend_plugin(plugin_id="both", register=register)
    async with start_test_backend(features=[plugin]) as backend:
        listing = await request(
            "GET", await backend.url("/api/both/.backstage/actions/v1/actions"), headers=SERVICE
        )

    assert seen[0] is seen[1]
    assert [action["id"] for action in listing.json()["actions"]] == ["both:hi"]


class DeadPermissionBackend:
    """A permissions service whose permission backend cannot be reached."""

    async def authorize(self, requests: Sequence[Any], **kwargs: Any) -> list[Any]:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 7007)")

    async def authorize_conditional(self, requests: Sequence[Any], **kwargs: Any) -> list[Any]:
        return await self.authorize(requests, **kwargs)


async def test_a_dead_permission_backend_is_a_503_not_a_leak_of_hidden_actions() -> None:
    dead = create_service_factory(
        service=core_services.permissions, factory=lambda: DeadPermissionBackend()
    )
    async with start_test_backend(features=[greeter(), dead]) as backend:
        base = await backend.url("/api/greeter/.backstage/actions/v1/actions")
        listing = await request("GET", base, headers=SERVICE)
        guarded = await request("POST", f"{base}/greeter:secret/invoke", headers=SERVICE)
        open_one = await request(
            "POST", f"{base}/greeter:echo/invoke", headers=SERVICE, json={"text": "a"}
        )

    assert listing.status == 503
    assert listing.json()["error"]["name"] == "ServiceUnavailableError"
    assert "127.0.0.1" not in listing.body.decode()
    assert guarded.status == 503
    # An action without a visibility permission needs no permission backend.
    assert (open_one.status, open_one.json()) == (200, {"output": {"echo": "a"}})
