"""``ActionTools`` over a fake actions service: which actions become tools, and how a call's
errors read to the model.
"""

from __future__ import annotations

from typing import Any

import pytest
from backstage_plugin_mcp_actions_backend._config import McpServerConfig
from backstage_plugin_mcp_actions_backend._tools import ActionTools
from mcp import types

from backstage_runtime import (
    ActionsServiceAction,
    BackstageCredentials,
    ForwardedError,
    InputError,
    JsonObject,
    JsonValue,
)
from backstage_runtime.testing import MockRootLogger, mock_credentials

pytestmark = pytest.mark.anyio

CALLER = mock_credentials.service("plugin:catalog")


def action(id: str, input_schema: JsonObject | None = None) -> ActionsServiceAction:
    return ActionsServiceAction(
        id=id,
        name=id.split(":")[1],
        title=id,
        description=f"does {id}",
        input_schema={"type": "object"} if input_schema is None else input_schema,
        output_schema={"type": "object"},
    )


class FakeActions:
    def __init__(self, actions: list[ActionsServiceAction], error: Exception | None = None):
        self.actions = actions
        self.error = error
        self.invoked: list[tuple[str, JsonObject | None, BackstageCredentials]] = []

    async def list(self, *, credentials: BackstageCredentials) -> list[ActionsServiceAction]:
        return self.actions

    async def invoke(
        self,
        *,
        id: str,
        input: JsonObject | None = None,
        credentials: BackstageCredentials,
        secrets: JsonObject | None = None,
    ) -> JsonValue:
        self.invoked.append((id, input, credentials))
        if self.error is not None:
            raise self.error
        return {"done": id}


def tools_for(actions: FakeActions, logger: MockRootLogger, **options: Any) -> ActionTools:
    return ActionTools(actions, logger, server=McpServerConfig(path="/v1"), **options)


def texts(result: types.CallToolResult) -> list[str]:
    return [block.text for block in result.content if isinstance(block, types.TextContent)]


async def test_an_action_without_an_object_input_schema_is_left_out_and_warned_once() -> None:
    logger = MockRootLogger()
    fake = FakeActions([action("a:good"), action("a:bad", {"type": "array"})])
    tools = tools_for(fake, logger)
    first = [tool.name for tool in await tools.list_tools(CALLER)]
    second = [tool.name for tool in await tools.list_tools(CALLER)]
    assert first == second == ["a.good"]
    assert logger.messages("warn") == [
        'Skipping MCP tool for action "a:bad": its input schema is not a JSON Schema with '
        '"type": "object" at the root'
    ]


async def test_without_namespacing_a_name_taken_by_another_plugin_is_left_out() -> None:
    logger = MockRootLogger()
    fake = FakeActions([action("a:get"), action("b:get")])
    tools = tools_for(fake, logger, namespaced_tool_names=False)
    assert [tool.name for tool in await tools.list_tools(CALLER)] == ["get"]
    result = await tools.call_tool(CALLER, "get", {"x": 1})
    assert fake.invoked == [("a:get", {"x": 1}, CALLER)]
    assert result.structured_content == {"done": "a:get"}
    assert logger.messages("warn") == [
        'Skipping MCP tool for action "b:get": tool name "get" already maps to action "a:get"'
    ]


async def test_a_forwarded_error_speaks_for_its_cause() -> None:
    error = ForwardedError("Failed to call", InputError("bad title"))
    tools = tools_for(FakeActions([action("a:go")], error), MockRootLogger())
    result = await tools.call_tool(CALLER, "a.go", None)
    assert result.is_error
    assert texts(result) == ["InputError: bad title"]


async def test_an_error_that_is_no_backstage_error_propagates() -> None:
    tools = tools_for(FakeActions([action("a:go")], RuntimeError("boom")), MockRootLogger())
    with pytest.raises(RuntimeError, match="boom"):
        await tools.call_tool(CALLER, "a.go", {})
