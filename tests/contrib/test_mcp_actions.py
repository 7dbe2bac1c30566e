"""The mcp-actions plugin on a real socket, driven by the MCP SDK's own Streamable HTTP client:
the todo plugin's actions are its tools, listed and called with the caller's credentials.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import httpx2
import pytest
from backstage_plugin_mcp_actions_backend import mcp_actions_plugin
from backstage_plugin_todo_backend import todo_plugin
from mcp import Client, types
from mcp.client.streamable_http import streamable_http_client

from backstage_runtime.testing import mock_credentials, start_test_backend

pytestmark = pytest.mark.anyio

ACTIONS = {"backend": {"actions": {"pluginSources": ["todo"]}}}
SERVICE = mock_credentials.service.headers("plugin:catalog")


def texts(result: types.CallToolResult) -> list[str]:
    return [block.text for block in result.content if isinstance(block, types.TextContent)]


@asynccontextmanager
async def mcp_client(
    url: str, headers: Mapping[str, str], mode: str = "legacy"
) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers=dict(headers)) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client


@asynccontextmanager
async def backend(
    config: Mapping[str, Any] | None = None, features: tuple = ()
) -> AsyncIterator[Any]:
    async with start_test_backend(
        features=[todo_plugin, mcp_actions_plugin, *features], config={**ACTIONS, **(config or {})}
    ) as test:
        yield test


async def test_the_todo_actions_are_listed_as_tools() -> None:
    async with (
        backend() as test,
        mcp_client(await test.url("/api/mcp-actions/v1"), SERVICE) as client,
    ):
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        info = client.server_info
    assert set(tools) == {"todo.create-item", "todo.list-items"}
    create = tools["todo.create-item"]
    assert create.description == "Adds an item to the TODO list and returns it with its id."
    assert create.input_schema["required"] == ["title"]
    assert create.input_schema["properties"]["title"]["type"] == "string"
    assert create.annotations is not None
    assert create.annotations.model_dump(by_alias=True, exclude_none=True) == {
        "title": "Create a TODO item",
        "destructiveHint": False,
        "idempotentHint": False,
        "readOnlyHint": False,
        "openWorldHint": False,
    }
    listing = tools["todo.list-items"].annotations
    assert listing is not None
    assert (listing.read_only_hint, listing.idempotent_hint) == (True, True)
    assert info is not None
    assert (info.name, info.version) == ("backstage", "0.1.0")


async def test_calling_a_tool_creates_the_item() -> None:
    async with backend() as test:
        async with mcp_client(await test.url("/api/mcp-actions/v1"), SERVICE) as client:
            result = await client.call_tool("todo.create-item", {"title": "Write docs"})
        async with (
            aiohttp.ClientSession() as session,
            session.get(await test.url("/api/todo/items")) as listed,
        ):
            items = (await listed.json())["items"]
    assert not result.is_error
    assert result.structured_content == {"id": 0, "title": "Write docs", "source": "actions"}
    assert texts(result) == ['{"id":0,"title":"Write docs","source":"actions"}']
    assert items == [{"id": 0, "title": "Write docs", "source": "actions"}]
