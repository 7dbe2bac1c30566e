"""A plugin in backend A lists and invokes the actions of a plugin in backend B through
``core.actions``: real sockets, discovery pointing at the other backend, real plugin tokens
verified through JWKS, and a user acting through a service.
"""

from __future__ import annotations

import socket
from contextlib import AsyncExitStack
from typing import Any

import pytest
from _support.http import request

from backstage_runtime.api import (
    ActionAttributes,
    ActionContext,
    actions_registry_service_ref,
    actions_service_ref,
    core_services,
    create_backend_plugin,
)
from backstage_runtime.api.errors import InputError

from ..auth._support import fake_auth_backend, real_auth_backend, user_token

pytestmark = pytest.mark.anyio


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def whoami(context: ActionContext) -> Any:
    return {"principal": context.credentials.principal.to_json(), "said": context.input["say"]}


def greeter() -> Any:
    def register(env: Any) -> None:
        def init(actions: Any) -> None:
            actions.register(
                name="whoami",
                title="Who am I",
                description="Tells the caller who it is",
                action=whoami,
                input_schema={
                    "type": "object",
                    "properties": {"say": {"type": "string"}},
                    "required": ["say"],
                },
                attributes=ActionAttributes(destructive=False, read_only=True),
            )

        env.register_init(deps={"actions": actions_registry_service_ref}, init=init)

    return create_backend_plugin(plugin_id="greeter", register=register)


def consumer() -> Any:
    def register(env: Any) -> None:
        env.register_init(deps={"actions": actions_service_ref}, init=lambda actions: None)

    return create_backend_plugin(plugin_id="consumer", register=register)


def endpoint(port: int, plugins: list[str]) -> dict[str, Any]:
    return {"target": f"http://127.0.0.1:{port}/api/{{{{pluginId}}}}", "plugins": plugins}


async def test_a_plugin_calls_an_action_of_another_backend_with_real_tokens() -> None:
    port_a, port_b = free_port(), free_port()
    config_a = {
        "backend": {
            "listen": {"host": "127.0.0.1", "port": port_a},
            "actions": {"pluginSources": ["greeter"]},
        },
        "discovery": {"endpoints": [endpoint(port_b, ["greeter", "auth"])]},
    }
    config_b = {
        "backend": {"listen": {"host": "127.0.0.1", "port": port_b}},
        "discovery": {"endpoints": [endpoint(port_a, ["consumer"])]},
    }
    async with AsyncExitStack() as stack:
        backend_b = await stack.enter_async_context(
            real_auth_backend([greeter(), fake_auth_backend()], config_b)
        )
        backend_a = await stack.enter_async_context(real_auth_backend([consumer()], config_a))
        actions = await backend_a.get_service(actions_service_ref, "consumer")
        auth = await backend_a.get_service(core_services.auth, "consumer")
        service = await auth.get_own_service_credentials()
        user = await auth.authenticate(user_token("user:default/ada"))

        listed = await actions.list(credentials=service)
        as_service = await actions.invoke(
            id="greeter:whoami", input={"say": "hi"}, credentials=service
        )
        as_user = await actions.invoke(id="greeter:whoami", input={"say": "yo"}, credentials=user)
        with pytest.raises(InputError, match="'say' is a required property"):
            await actions.invoke(id="greeter:whoami", input={}, credentials=service)

        # The user's own token, sent straight to B, may list and invoke (Node 0.18's rule).
        base = await backend_b.url("/api/greeter/.backstage/actions/v1/actions")
        headers = {"Authorization": f"Bearer {user_token('user:default/ada')}"}
        direct_list = await request("GET", base, headers=headers)
        direct_invoke = await request(
            "POST", f"{base}/greeter:whoami/invoke", headers=headers, json={"say": "x"}
        )

    assert [(a.id, a.attributes.read_only) for a in listed] == [("greeter:whoami", True)]
    assert as_service == {
        "principal": {"type": "service", "subject": "plugin:consumer"},
        "said": "hi",
    }
    assert as_user == {
        "principal": {
            "type": "user",
            "userEntityRef": "user:default/ada",
            "actor": {"type": "service", "subject": "plugin:consumer"},
        },
        "said": "yo",
    }
    assert direct_list.status == 200
    assert (direct_invoke.status, direct_invoke.json()["output"]["principal"]) == (
        200,
        {"type": "user", "userEntityRef": "user:default/ada"},
    )
