"""core.actions: Node's filter rules, error JSON turned back into errors, and listing/invoking
plugin sources over a real socket, including a source that is down and one that answers garbage.
"""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
import pytest
from _support.http import request
from quart import Blueprint

from backstage_runtime.api import (
    ActionAttributes,
    ActionContext,
    ActionsServiceAction,
    actions_registry_service_ref,
    actions_service_ref,
    core_services,
    create_backend_plugin,
    create_service_factory,
)
from backstage_runtime.api.errors import (
    AuthenticationError,
    InputError,
    NotFoundError,
    ResponseError,
)
from backstage_runtime.defaults.actions import error_from_response, parse_action, read_action_filter
from backstage_runtime.testing import mock_credentials, mock_services, start_test_backend

pytestmark = pytest.mark.anyio


def action(action_id: str, **attributes: bool) -> ActionsServiceAction:
    return ActionsServiceAction(
        id=action_id,
        name=action_id.split(":")[1],
        title="t",
        description="d",
        input_schema={},
        output_schema={},
        attributes=ActionAttributes(**attributes),
    )


ACTIONS = [
    action("catalog:get-entity", destructive=False, read_only=True),
    action("catalog:delete-entity"),
    action("scaffolder:run", destructive=False),
]


def kept(filter_config: dict[str, Any] | None) -> list[str]:
    config = mock_services.root_config(
        {"backend": {"actions": {"filter": filter_config}}} if filter_config is not None else {}
    )
    rules = read_action_filter(config)
    return [a.id for a in ACTIONS if rules.allows(a)]


def test_no_filter_keeps_everything() -> None:
    assert kept(None) == [a.id for a in ACTIONS]


def test_include_globs_and_attributes_and_exclude_wins() -> None:
    assert kept({"include": [{"id": "catalog:*"}]}) == [
        "catalog:get-entity",
        "catalog:delete-entity",
    ]
    assert kept({"include": [{"attributes": {"readOnly": True}}]}) == ["catalog:get-entity"]
    # Every attribute of a rule must match, and the id too.
    assert kept({"include": [{"id": "catalog:*", "attributes": {"destructive": False}}]}) == [
        "catalog:get-entity"
    ]
    assert kept({"exclude": [{"attributes": {"destructive": True}}]}) == [
        "catalog:get-entity",
        "scaffolder:run",
    ]
    assert kept({"include": [{"id": "catalog:*"}], "exclude": [{"id": "*:delete-*"}]}) == [
        "catalog:get-entity"
    ]
    assert kept({"include": [{"id": "{catalog,scaffolder}:?un"}]}) == ["scaffolder:run"]
    assert kept({"include": [{"id": "!catalog:*"}]}) == ["scaffolder:run"]


def test_a_malformed_filter_names_the_config_key() -> None:
    with pytest.raises(Exception, match=r"backend\.actions\.filter\.include\[0\]\.id"):
        kept({"include": [{"id": 3}]})


def test_error_json_becomes_the_named_error() -> None:
    body = '{"error": {"name": "NotFoundError", "message": "Action \\"a:b\\" not found"}}'
    error = error_from_response(404, "Not Found", body)
    assert isinstance(error, NotFoundError)
    assert str(error).startswith('Action "a:b" not found')
    assert str(error) == 'Action "a:b" not found'
    odd = error_from_response(418, None, '{"error": {"name": "TeapotError", "message": "short"}}')
    assert isinstance(odd, ResponseError)
    assert odd.status_code == 418
    assert str(odd) == "short"
    garbage = error_from_response(502, "Bad Gateway", "<html>")
    assert isinstance(garbage, ResponseError)
    assert str(garbage) == "Request failed with 502 Bad Gateway"


async def shout(context: ActionContext) -> Any:
    return {"loud": context.input["text"].upper()}


def greeter() -> Any:
    def register(env: Any) -> None:
        def init(actions: Any) -> None:
            actions.register(
                name="shout",
                title="Shout",
                description="Upper-cases",
                action=shout,
                input_schema={
                    "type": "object",
                    "properties": {"text": {"type": "string"}},
                    "required": ["text"],
                },
                attributes=ActionAttributes(destructive=False, read_only=True, idempotent=True),
            )
            actions.register(name="forget", title="Forget", description="Deletes", action=shout)

        env.register_init(deps={"actions": actions_registry_service_ref}, init=init)

    return create_backend_plugin(plugin_id="greeter", register=register)


def garbage() -> Any:
    routes = Blueprint("garbage", __name__)

    @routes.get("/.backstage/actions/v1/actions")
    async def listing() -> Any:
        return {"nope": True}

    def register(env: Any) -> None:
        env.register_init(
            deps={"http": core_services.http_router}, init=lambda http: http.use(routes)
        )

    return create_backend_plugin(plugin_id="garbage", register=register)


def consumer() -> Any:
    def register(env: Any) -> None:
        env.register_init(deps={"actions": actions_service_ref}, init=lambda actions: None)

    return create_backend_plugin(plugin_id="consumer", register=register)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config(**actions: Any) -> dict[str, Any]:
    return {
        "backend": {"actions": {"pluginSources": ["greeter", "garbage", "down"], **actions}},
        "discovery": {
            "endpoints": [
                {
                    "target": f"http://127.0.0.1:{closed_port()}/api/{{{{pluginId}}}}",
                    "plugins": ["down"],
                }
            ]
        },
    }


CALLER = mock_credentials.service("plugin:consumer")


async def test_list_skips_a_source_that_is_down_or_answers_garbage_and_logs_it() -> None:
    features = [greeter(), garbage(), consumer()]
    async with start_test_backend(features=features, config=config()) as backend:
        actions = await backend.get_service(actions_service_ref, "consumer")
        listed = await actions.list(credentials=CALLER)
        warnings = backend.logger.messages("warn")

    assert [a.id for a in listed] == ["greeter:shout", "greeter:forget"]
    shout_action = listed[0]
    assert shout_action.attributes == ActionAttributes(
        destructive=False, read_only=True, idempotent=True
    )
    assert shout_action.input_schema["required"] == ["text"]
    assert listed[1].attributes == ActionAttributes()  # Node's defaults: destructive
    assert "Failed to fetch actions from garbage" in warnings
    assert "Failed to fetch actions from down" in warnings


async def test_list_applies_the_configured_filter() -> None:
    features = [greeter(), garbage(), consumer()]
    cfg = config(filter={"exclude": [{"attributes": {"destructive": True}}]})
    async with start_test_backend(features=features, config=cfg) as backend:
        actions = await backend.get_service(actions_service_ref, "consumer")
        listed = await actions.list(credentials=CALLER)
    assert [a.id for a in listed] == ["greeter:shout"]


async def test_invoke_returns_the_output_and_raises_the_remote_error() -> None:
    features = [greeter(), garbage(), consumer()]
    async with start_test_backend(features=features, config=config()) as backend:
        actions = await backend.get_service(actions_service_ref, "consumer")
        output = await actions.invoke(id="greeter:shout", input={"text": "hi"}, credentials=CALLER)
        with pytest.raises(InputError, match="'text' is a required property"):
            await actions.invoke(id="greeter:shout", input={}, credentials=CALLER)
        with pytest.raises(NotFoundError, match='Action "greeter:nope" not found'):
            await actions.invoke(id="greeter:nope", credentials=CALLER)
        with pytest.raises(InputError, match="Invalid action id: no-colon"):
            await actions.invoke(id="no-colon", credentials=CALLER)
        with pytest.raises(NotFoundError):
            # The garbage plugin has no invoke route.
            await actions.invoke(id="garbage:x", credentials=CALLER)
        with pytest.raises(aiohttp.ClientConnectionError):
            await actions.invoke(id="down:x", credentials=CALLER)
        with pytest.raises(AuthenticationError, match="credential type 'none'"):
            # No plugin token is issued for an anonymous caller.
            await actions.invoke(
                id="greeter:shout", input={"text": "a"}, credentials=mock_credentials.none()
            )

    assert output == {"loud": "HI"}


class DenyNamed:
    """Denies the permissions named ``denied``; allows the rest."""

    def __init__(self, *denied: str) -> None:
        self.denied = set(denied)

    async def authorize(self, requests: Any, **kwargs: Any) -> list[Any]:
        return [
            {"result": "DENY" if r["permission"]["name"] in self.denied else "ALLOW"}
            for r in requests
        ]

    async def authorize_conditional(self, requests: Any, **kwargs: Any) -> list[Any]:
        return await self.authorize(requests, **kwargs)


async def test_overrides_retitle_and_a_configured_permission_hides() -> None:
    permissions = create_service_factory(
        service=core_services.permissions, factory=lambda: DenyNamed("forget.use")
    )
    overrides = {
        "greeter:shout": {
            "title": "Yell",
            "description": "Yells back",
            "schema": {"input": {"title": "What to yell"}, "output": {"description": "Loud"}},
        },
        "greeter:forget": {"visibilityPermission": {"name": "forget.use"}},
    }
    features = [greeter(), garbage(), consumer(), permissions]
    async with start_test_backend(features=features, config=config(overrides=overrides)) as backend:
        actions = await backend.get_service(actions_service_ref, "consumer")
        listed = await actions.list(credentials=CALLER)

    [shout_action] = listed
    assert (shout_action.title, shout_action.description) == ("Yell", "Yells back")
    assert shout_action.input_schema["title"] == "What to yell"
    assert shout_action.input_schema["required"] == ["text"]
    assert shout_action.output_schema["description"] == "Loud"


async def test_an_action_failure_crosses_the_wire_with_its_name() -> None:
    async def missing(context: ActionContext) -> Any:
        raise NotFoundError("no entity component:default/x")

    def sync_action(context: ActionContext) -> Any:
        return {"sync": True}

    def register(env: Any) -> None:
        def init(actions: Any) -> None:
            actions.register(name="missing", title="t", description="d", action=missing)
            actions.register(name="sync", title="t", description="d", action=sync_action)

        env.register_init(deps={"actions": actions_registry_service_ref}, init=init)

    plugin = create_backend_plugin(plugin_id="greeter", register=register)
    async with start_test_backend(features=[plugin, consumer()], config=config()) as backend:
        actions = await backend.get_service(actions_service_ref, "consumer")
        with pytest.raises(NotFoundError) as caught:
            await actions.invoke(id="greeter:missing", credentials=CALLER)
        synced = await actions.invoke(id="greeter:sync", credentials=CALLER)

    assert str(caught.value) == "no entity component:default/x"
    assert synced == {"sync": True}


async def test_hostile_invocations_get_clear_errors() -> None:
    async with start_test_backend(features=[greeter()]) as backend:
        base = await backend.url("/api/greeter/.backstage/actions/v1/actions")
        headers = mock_credentials.service.headers("plugin:x")
        not_an_object = await request(
            "POST", f"{base}/greeter:shout/invoke", headers=headers, json=["text"]
        )
        deep = await request(
            "POST",
            f"{base}/greeter:shout/invoke",
            headers={**headers, "Content-Type": "application/json"},
            data=b"[" * 100_000,
        )
        odd_id = await request("POST", f"{base}/greeter%3Ashout%2F..%2Fx/invoke", headers=headers)
        wrong_method = await request("GET", f"{base}/greeter:shout/invoke", headers=headers)

    assert not_an_object.status == 400
    assert "is not of type 'object'" in not_an_object.json()["error"]["message"]
    assert deep.status in (400, 413)
    assert deep.json()["error"]["name"] in ("InputError", "PayloadTooLargeError")
    assert odd_id.status == 404
    assert odd_id.json()["error"]["message"] == 'Action "greeter:shout/../x" not found'
    assert wrong_method.status == 405


def test_a_listed_action_without_destructive_is_destructive_unless_read_only() -> None:
    def listed(attributes: dict[str, Any]) -> ActionAttributes:
        item = {"id": "p:a", "name": "a", "title": "t", "description": "d"}
        return parse_action({**item, "attributes": attributes})[0].attributes

    assert listed({"readOnly": True}) == ActionAttributes(destructive=False, read_only=True)
    assert listed({}) == ActionAttributes(destructive=True)
    assert listed({"readOnly": True, "destructive": True}).destructive is True


def test_a_listed_action_keeps_its_examples() -> None:
    item = {"id": "p:a", "name": "a", "title": "t", "description": "d"}
    example = {"title": "One", "input": {"x": 1}}
    assert parse_action({**item, "examples": [example]})[0].examples == (example,)
    assert parse_action(item)[0].examples is None
