"""The actions registry without HTTP: ids, duplicates, schemas (pydantic and JSON Schema),
input and output validation, the caller check and failures wrapped as Node wraps them.
"""

from __future__ import annotations

import sys
from typing import Any

import pydantic
import pytest
from _support.http import request

from backstage_runtime.api import (
    ActionAttributes,
    ActionContext,
    actions_registry_service_ref,
    create_backend_plugin,
)
from backstage_runtime.api.error_response import status_code_for_error
from backstage_runtime.api.errors import (
    ConflictError,
    InputError,
    NotAllowedError,
    NotFoundError,
)
from backstage_runtime.api.services.auth import (
    BackstageCredentials,
    BackstageServicePrincipal,
    BackstageUserPrincipal,
)
from backstage_runtime.defaults.actions_registry import ActionsRegistry
from backstage_runtime.testing import (
    MockRootLogger,
    mock_credentials,
    mock_services,
    start_test_backend,
)

pytestmark = pytest.mark.anyio

SERVICE = mock_credentials.service("plugin:caller")
USER_VIA_SERVICE = BackstageCredentials(
    principal=BackstageUserPrincipal(
        "user:default/ada", actor=BackstageServicePrincipal("plugin:mcp")
    )
)


class Greeting(pydantic.BaseModel):
    name: str
    times: int = 1


class Greeted(pydantic.BaseModel):
    message: str


GREETING_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "times": {"type": "integer", "minimum": 1}},
    "required": ["name"],
    "additionalProperties": False,
}


def registry(plugin_id: str = "greeter") -> ActionsRegistry:
    return ActionsRegistry(plugin_id, logger=MockRootLogger())


async def greet_model(context: ActionContext) -> Greeted:
    assert isinstance(context.input, Greeting)
    return Greeted(message=" ".join([f"hello {context.input.name}"] * context.input.times))


async def greet_json(context: ActionContext) -> dict[str, Any]:
    return {"message": f"hello {context.input['name']}", "who": context.credentials.principal.type}


def test_an_action_is_listed_under_plugin_id_colon_name_with_node_default_attributes() -> None:
    actions = registry()
    actions.register(name="greet", title="Greet", description="Says hello", action=greet_json)
    [entry] = actions.actions.values()
    body: Any = entry.to_json()
    assert body["id"] == "greeter:greet"
    assert (body["name"], body["title"], body["description"]) == ("greet", "Greet", "Says hello")
    assert body["attributes"] == {"destructive": True, "idempotent": False, "readOnly": False}
    assert body["schema"]["input"]["type"] == "object"
    assert "visibilityPermission" not in body


def test_registering_a_name_twice_is_a_conflict_naming_the_id() -> None:
    actions = registry()
    actions.register(name="greet", title="Greet", description="d", action=greet_json)
    with pytest.raises(ConflictError, match='Action with id "greeter:greet" is already registered'):
        actions.register(name="greet", title="Again", description="d", action=greet_json)


def test_the_same_name_in_two_plugins_is_two_actions() -> None:
    first, second = registry("one"), registry("two")
    first.register(name="greet", title="t", description="d", action=greet_json)
    second.register(name="greet", title="t", description="d", action=greet_json)
    assert list(first.actions) == ["one:greet"]
    assert list(second.actions) == ["two:greet"]


def test_a_bad_schema_or_permission_is_refused_at_registration_naming_the_action() -> None:
    actions = registry()
    with pytest.raises(ValueError, match=r"input schema of action 'greeter:a'.*'strin'"):
        actions.register(
            name="a",
            title="t",
            description="d",
            action=greet_json,
            input_schema={"type": "strin"},
        )
    with pytest.raises(ValueError, match="output schema of action 'greeter:b'"):
        actions.register(
            name="b",
            title="t",
            description="d",
            action=greet_json,
            output_schema=42,  # type: ignore[arg-type]
        )
    with pytest.raises(ValueError, match="visibility_permission of action 'greeter:c'"):
        actions.register(
            name="c",
            title="t",
            description="d",
            action=greet_json,
            visibility_permission={"type": "resource", "name": "x", "resourceType": "y"},
        )
    with pytest.raises(ValueError, match="non-empty name"):
        actions.register(name="", title="t", description="d", action=greet_json)
    assert actions.actions == {}


async def test_a_pydantic_model_is_listed_as_its_json_schema_and_validates() -> None:
    actions = registry()
    actions.register(
        name="greet",
        title="t",
        description="d",
        action=greet_model,
        input_schema=Greeting,
        output_schema=Greeted,
    )
    listed: Any = actions.actions["greeter:greet"].to_json()["schema"]
    assert listed["input"] == Greeting.model_json_schema()
    assert listed["output"] == Greeted.model_json_schema()
    output = await actions.invoke("greeter:greet", {"name": "ada", "times": 2}, SERVICE)
    assert output == {"message": "hello ada hello ada"}

    with pytest.raises(InputError) as caught:
        await actions.invoke("greeter:greet", {"times": "many"}, SERVICE)
    assert str(caught.value).startswith('Invalid input to action "greeter:greet": ')
    assert "name" in str(caught.value)


async def test_a_json_schema_validates_and_names_the_offending_field() -> None:
    actions = registry()
    actions.register(
        name="greet", title="t", description="d", action=greet_json, input_schema=GREETING_SCHEMA
    )
    assert await actions.invoke("greeter:greet", {"name": "ada"}, SERVICE) == {
        "message": "hello ada",
        "who": "service",
    }
    with pytest.raises(InputError, match=r"times: 0 is less than the minimum of 1"):
        await actions.invoke("greeter:greet", {"name": "ada", "times": 0}, SERVICE)
    with pytest.raises(InputError, match="'name' is a required property"):
        await actions.invoke("greeter:greet", {}, SERVICE)
    with pytest.raises(InputError, match="Additional properties"):
        await actions.invoke("greeter:greet", {"name": "a", "admin": True}, SERVICE)


async def test_an_invalid_output_is_an_input_error() -> None:
    async def liar(context: ActionContext) -> dict[str, Any]:
        return {"message": 42}

    actions = registry()
    actions.register(name="lie", title="t", description="d", action=liar, output_schema=Greeted)
    with pytest.raises(InputError) as caught:
        await actions.invoke("greeter:lie", {}, SERVICE)
    assert str(caught.value).startswith('Invalid output from action "greeter:lie": message')
    assert status_code_for_error(caught.value) == 400


async def test_an_action_failure_reaches_the_caller_as_it_was_raised() -> None:
    async def missing(context: ActionContext) -> None:
        raise NotFoundError("no such entity")

    async def crash(context: ActionContext) -> None:
        raise RuntimeError("boom")

    actions = registry()
    actions.register(name="missing", title="t", description="d", action=missing)
    actions.register(name="crash", title="t", description="d", action=crash)
    with pytest.raises(NotFoundError, match=r"^no such entity$") as caught:
        await actions.invoke("greeter:missing", {}, SERVICE)
    assert status_code_for_error(caught.value) == 404
    with pytest.raises(RuntimeError, match=r"^boom$") as crashed:
        await actions.invoke("greeter:crash", {}, SERVICE)
    assert status_code_for_error(crashed.value) == 500


async def test_any_authenticated_caller_but_never_anonymous() -> None:
    actions = registry()
    actions.register(name="greet", title="t", description="d", action=greet_json)
    with pytest.raises(NotAllowedError, match="by an authenticated principal, not an anonymous"):
        await actions.invoke("greeter:greet", {"name": "a"}, mock_credentials.none())
    direct = await actions.invoke("greeter:greet", {"name": "a"}, mock_credentials.user())
    output = await actions.invoke("greeter:greet", {"name": "a"}, USER_VIA_SERVICE)
    assert direct == output == {"message": "hello a", "who": "user"}


async def test_an_unknown_action_is_not_found() -> None:
    with pytest.raises(NotFoundError, match='Action "greeter:nope" not found'):
        await registry().invoke("greeter:nope", {}, SERVICE)


async def test_attributes_are_listed_as_given() -> None:
    actions = registry()
    actions.register(
        name="read",
        title="t",
        description="d",
        action=greet_json,
        attributes=ActionAttributes(destructive=False, idempotent=True, read_only=True),
    )
    assert actions.actions["greeter:read"].to_json()["attributes"] == {
        "destructive": False,
        "idempotent": True,
        "readOnly": True,
    }


def test_a_read_only_action_is_not_destructive_unless_it_says_so() -> None:
    # Node (backend-defaults 0.18): `destructive` defaults to `!readOnly`.
    assert ActionAttributes() == ActionAttributes(destructive=True)
    assert ActionAttributes(read_only=True).destructive is False
    assert ActionAttributes(destructive=True, read_only=True).destructive is True
    actions = registry()
    actions.register(
        name="peek",
        title="t",
        description="d",
        action=greet_json,
        attributes=ActionAttributes(read_only=True),
    )
    assert actions.actions["greeter:peek"].to_json()["attributes"] == {
        "destructive": False,
        "idempotent": False,
        "readOnly": True,
    }


async def test_the_mock_registry_records_and_invokes_with_the_same_validation() -> None:
    mock = mock_services.actions_registry()
    mock.register(
        name="greet", title="t", description="d", action=greet_json, input_schema=GREETING_SCHEMA
    )
    assert list(mock.actions) == ["test:greet"]
    assert await mock.invoke("greet", {"name": "ada"}) == {"message": "hello ada", "who": "none"}
    assert await mock.invoke(id="test:greet", input={"name": "b"}, credentials=SERVICE) == {
        "message": "hello b",
        "who": "service",
    }
    with pytest.raises(InputError, match="'name' is a required property"):
        await mock.invoke("greet", {})
    with pytest.raises(NotFoundError, match='available actions: "test:greet"'):
        await mock.invoke("other")
    with pytest.raises(ConflictError):
        mock.register(name="greet", title="t", description="d", action=greet_json)
    [listed] = await mock_services.actions(mock).list(credentials=SERVICE)
    assert (listed.id, listed.input_schema) == ("test:greet", GREETING_SCHEMA)


async def test_the_mock_registry_hides_what_its_permissions_deny() -> None:
    mock = mock_services.actions_registry(permissions=mock_services.permissions("DENY"))
    mock.register(
        name="secret",
        title="t",
        description="d",
        action=greet_json,
        visibility_permission={"type": "basic", "name": "secret.read", "attributes": {}},
    )
    mock.register(name="open", title="t", description="d", action=greet_json)
    assert [action.id for action in await mock.list(credentials=SERVICE)] == ["test:open"]
    with pytest.raises(NotFoundError):
        await mock.invoke("secret", {"name": "a"})


def test_pydantic_is_not_imported_by_a_registry_that_uses_json_schema() -> None:
    import subprocess

    code = (
        "import sys\n"
        "from backstage_runtime.defaults.actions_registry import compile_schema\n"
        "compile_schema({'type': 'object'}, label='x')\n"
        "print('pydantic' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


async def test_a_mock_registry_installed_in_a_test_backend_records_each_plugins_actions() -> None:
    mock = mock_services.actions_registry()

    def register(env: Any) -> None:
        def init(actions: Any) -> None:
            actions.register(
                name="greet",
                title="t",
                description="d",
                action=greet_json,
                input_schema=GREETING_SCHEMA,
            )

        env.register_init(deps={"actions": actions_registry_service_ref}, init=init)

    plugin = create_backend_plugin(plugin_id="greeter", register=register)
    async with start_test_backend(features=[plugin, mock.factory()]) as backend:
        url = await backend.url("/api/greeter/.backstage/actions/v1/actions")
        reply_status = (
            await request("GET", url, headers=mock_credentials.service.headers())
        ).status

    assert list(mock.actions) == ["greeter:greet"]
    assert await mock.invoke("greeter:greet", {"name": "x"}, credentials=SERVICE) == {
        "message": "hello x",
        "who": "service",
    }
    # The mock mounts no routes.
    assert reply_status == 404


async def test_a_model_returned_under_a_json_schema_or_no_schema_is_sent_as_json() -> None:
    async def model_out(context: ActionContext) -> Greeted:
        return Greeted(message="hi")

    actions = registry()
    actions.register(
        name="typed",
        title="t",
        description="d",
        action=model_out,
        output_schema={"type": "object", "required": ["message"]},
    )
    actions.register(name="loose", title="t", description="d", action=model_out)
    assert await actions.invoke("greeter:typed", {}, SERVICE) == {"message": "hi"}
    assert await actions.invoke("greeter:loose", {}, SERVICE) == {"message": "hi"}


def test_examples_are_listed_as_given_and_checked_for_shape() -> None:
    example = {"title": "Greet Ada", "input": {"name": "Ada"}, "output": {"message": "hello Ada"}}
    actions = registry()
    actions.register(
        name="greet", title="t", description="d", action=greet_json, examples=[example]
    )
    actions.register(name="bare", title="t", description="d", action=greet_json)
    assert actions.actions["greeter:greet"].to_json()["examples"] == [example]
    # As Node: no key at all for an action without examples.
    assert "examples" not in actions.actions["greeter:bare"].to_json()
    with pytest.raises(ValueError, match=r"Example 0 of action 'greeter:odd' must be an object"):
        actions.register(
            name="odd", title="t", description="d", action=greet_json, examples=[{"input": {}}]
        )
