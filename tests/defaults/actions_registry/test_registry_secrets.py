"""Action secrets, as Node's backend-defaults 0.18 has them: a secrets schema listed under
``schema.secrets``, the v2 invoke route (``{input, secrets}``), and secrets required by the
actions that take them and refused by the others, on a real Hypercorn socket.
"""

from __future__ import annotations

from typing import Any

import pytest
from _support.http import request

from backstage_runtime.api import (
    ActionContext,
    actions_registry_service_ref,
    actions_service_ref,
    create_backend_plugin,
)
from backstage_runtime.api.errors import InputError
from backstage_runtime.testing import mock_credentials, mock_services, start_test_backend

pytestmark = pytest.mark.anyio

SERVICE = mock_credentials.service.headers("plugin:caller")
TOKEN = "s3cr3t-token-value"
REPO_SCHEMA = {"type": "object", "properties": {"repo": {"type": "string"}}, "required": ["repo"]}
SECRETS_SCHEMA = {
    "type": "object",
    "properties": {"token": {"type": "string", "minLength": 8}},
    "required": ["token"],
}
seen: list[ActionContext] = []


async def fetch(context: ActionContext) -> Any:
    seen.append(context)
    return {"repo": context.input["repo"], "tokenLength": len(context.secrets["token"])}


async def plain(context: ActionContext) -> Any:
    return {"secrets": context.secrets}


def vault() -> Any:
    def register(env: Any) -> None:
        def init(actions: Any) -> None:
            actions.register(
                name="fetch",
                title="Fetch",
                description="Needs the user's token",
                action=fetch,
                input_schema=REPO_SCHEMA,
                secrets_schema=SECRETS_SCHEMA,
            )
            actions.register(name="plain", title="Plain", description="No secrets", action=plain)

        env.register_init(deps={"actions": actions_registry_service_ref}, init=init)

    return create_backend_plugin(plugin_id="vault", register=register)


def consumer() -> Any:
    def register(env: Any) -> None:
        env.register_init(deps={"actions": actions_service_ref}, init=lambda actions: None)

    return create_backend_plugin(plugin_id="consumer", register=register)


async def test_the_listing_shows_the_secrets_schema_of_the_actions_that_take_them() -> None:
    async with start_test_backend(features=[vault()]) as backend:
        url = await backend.url("/api/vault/.backstage/actions/v1/actions")
        listing = (await request("GET", url, headers=SERVICE)).json()["actions"]

    by_id = {action["id"]: action for action in listing}
    assert by_id["vault:fetch"]["schema"]["secrets"] == SECRETS_SCHEMA
    assert "secrets" not in by_id["vault:plain"]["schema"]


async def test_the_v2_route_takes_input_and_secrets_apart() -> None:
    seen.clear()
    async with start_test_backend(features=[vault()]) as backend:
        base = await backend.url("/api/vault/.backstage/actions")
        body = {"input": {"repo": "backstage"}, "secrets": {"token": TOKEN}}
        reply = await request(
            "POST", f"{base}/v2/actions/vault:fetch/invoke", headers=SERVICE, json=body
        )

    assert (reply.status, reply.json()) == (
        200,
        {"output": {"repo": "backstage", "tokenLength": 18}},
    )
    # The secrets reach the action but never its repr (what a log line would show).
    assert seen[0].secrets == {"token": TOKEN}
    assert TOKEN not in repr(seen[0])


async def test_secrets_are_required_where_taken_and_refused_elsewhere() -> None:
    async with start_test_backend(features=[vault()]) as backend:
        base = await backend.url("/api/vault/.backstage/actions")

        async def post(path: str, body: Any) -> Any:
            reply = await request("POST", f"{base}{path}", headers=SERVICE, json=body)
            return reply.status, reply.json()["error"]

        v1 = await post("/v1/actions/vault:fetch/invoke", {"repo": "b"})
        v2_none = await post("/v2/actions/vault:fetch/invoke", {"input": {"repo": "b"}})
        bad = await post(
            "/v2/actions/vault:fetch/invoke", {"input": {"repo": "b"}, "secrets": {"token": "abc"}}
        )
        unwanted = await post("/v2/actions/vault:plain/invoke", {"input": {}, "secrets": {"a": 1}})

    needs = 'Action "vault:fetch" requires secrets but none were provided'
    assert v1 == (400, {"name": "InputError", "message": needs})
    assert v2_none == (400, {"name": "InputError", "message": needs})
    # The field is named, the rejected value is not (it is a secret).
    assert bad == (
        400,
        {
            "name": "InputError",
            "message": 'Invalid secrets for action "vault:fetch": token is invalid',
        },
    )
    assert unwanted == (
        400,
        {"name": "InputError", "message": 'Action "vault:plain" does not accept secrets'},
    )


async def test_the_actions_service_sends_secrets_through_the_v2_route() -> None:
    config = {"backend": {"actions": {"pluginSources": ["vault"]}}}
    async with start_test_backend(features=[vault(), consumer()], config=config) as backend:
        actions = await backend.get_service(actions_service_ref, "consumer")
        caller = mock_credentials.service("plugin:consumer")
        listed = {action.id: action for action in await actions.list(credentials=caller)}
        output = await actions.invoke(
            id="vault:fetch", input={"repo": "r"}, secrets={"token": TOKEN}, credentials=caller
        )
        with pytest.raises(InputError, match="requires secrets"):
            await actions.invoke(id="vault:fetch", input={"repo": "r"}, credentials=caller)

    assert listed["vault:fetch"].secrets_schema == SECRETS_SCHEMA
    assert listed["vault:plain"].secrets_schema is None
    assert output == {"repo": "r", "tokenLength": 18}


async def test_the_mock_registry_takes_secrets_too() -> None:
    registry = mock_services.actions_registry("vault")
    registry.register(
        name="fetch",
        title="t",
        description="d",
        action=fetch,
        input_schema=REPO_SCHEMA,
        secrets_schema=SECRETS_SCHEMA,
    )
    output = await registry.invoke("fetch", {"repo": "x"}, secrets={"token": TOKEN})
    assert output == {"repo": "x", "tokenLength": 18}
    with pytest.raises(InputError, match="requires secrets"):
        await registry.invoke("fetch", {"repo": "x"})
