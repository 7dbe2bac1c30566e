"""The actions of ``core.actions`` as MCP tools, for one caller's credentials (Node's
``McpService``): listing them and calling one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import mcp_types as types

from backstage_runtime import (
    ActionsService,
    ActionsServiceAction,
    BackstageCredentials,
    BackstageError,
    ForwardedError,
    LoggerService,
    NotFoundError,
)

from ._config import McpServerConfig

__all__ = ["ActionTools"]


def _describe_error(error: BackstageError) -> str:
    """``<name>: <message>`` of a Backstage error, as Node tells the model about it; a
    forwarded error speaks for its cause (Node's ``extractCause``).
    """
    if isinstance(error, ForwardedError) and isinstance(error.cause, BaseException):
        cause = error.cause
        name = cause.error_name if isinstance(cause, BackstageError) else type(cause).__name__
        return f"{name}: {cause}"
    return f"{error.error_name}: {error}"


def _json_text(value: Any) -> str:
    # JSON.stringify's output: compact, non-ASCII as is.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class ActionTools:
    """Turns the actions the caller may see into tools, and runs a tool through the actions
    service with the caller's credentials.

    Tool names are ``<pluginId>.<action name>`` (``mcpActions.namespacedToolNames``, default
    true) or the bare action name; annotations come from the action's title and attributes.
    An action whose input schema is not an object schema is left out (logged once), as is an
    action whose tool name another action already took.
    """

    def __init__(
        self,
        actions: ActionsService,
        logger: LoggerService,
        *,
        server: McpServerConfig,
        namespaced_tool_names: bool = True,
    ) -> None:
        self._actions = actions
        self._logger = logger
        self._server = server
        self._namespaced = namespaced_tool_names
        # Warn once per action, not on every tools/list of every client.
        self._warned: set[str] = set()

    def tool_name(self, action: ActionsServiceAction) -> str:
        """The tool name ``action`` is listed under."""
        if self._namespaced:
            plugin_id = action.id.split(":", 1)[0]
            return f"{plugin_id}.{action.name}"
        return action.name

    async def _visible_actions(
        self, credentials: BackstageCredentials
    ) -> list[ActionsServiceAction]:
        actions = await self._actions.list(credentials=credentials)
        return [action for action in actions if self._server.includes(action)]

    async def list_tools(self, credentials: BackstageCredentials) -> list[types.Tool]:
        """The tools for the actions ``credentials`` may see (after the server's filter)."""
        tools: list[types.Tool] = []
        owners: dict[str, str] = {}
        for action in await self._visible_actions(credentials):
            name = self.tool_name(action)
            owner = owners.get(name)
            if owner is not None:
                self._warn_once(
                    f"{name}:{action.id}",
                    f'Skipping MCP tool for action "{action.id}": tool name "{name}" already '
                    f'maps to action "{owner}"',
                )
                continue
            tool = self._tool(action, name)
            if tool is None:
                continue
            owners[name] = action.id
            tools.append(tool)
        return tools

    def _tool(self, action: ActionsServiceAction, name: str) -> types.Tool | None:
        schema = action.input_schema
        # MCP requires an object schema at the root; one bad action must not fail the listing.
        if not isinstance(schema, Mapping) or schema.get("type") != "object":
            self._warn_once(
                action.id,
                f'Skipping MCP tool for action "{action.id}": its input schema is not a JSON '
                'Schema with "type": "object" at the root',
            )
            return None
        attributes = action.attributes
        return types.Tool(
            name=name,
            description=action.description,
            input_schema=dict(schema),
            annotations=types.ToolAnnotations(
                title=action.title,
                destructive_hint=attributes.destructive,
                idempotent_hint=attributes.idempotent,
                read_only_hint=attributes.read_only,
                open_world_hint=False,
            ),
        )

    async def call_tool(
        self,
        credentials: BackstageCredentials,
        name: str,
        arguments: Mapping[str, Any] | None,
    ) -> types.CallToolResult:
        """Invoke the action behind tool ``name`` with ``arguments``.

        A Backstage error (an unknown tool, an invalid input, an error of the action) is a tool
        result with ``isError`` and ``<ErrorName>: <message>``, for the model to read; any other
        exception propagates (the SDK answers it with a JSON-RPC internal error).
        """
        try:
            action = self._find(await self._visible_actions(credentials), name)
            output = await self._actions.invoke(
                id=action.id,
                input=dict(arguments) if arguments is not None else None,
                credentials=credentials,
            )
        except BackstageError as error:
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=_describe_error(error))],
                is_error=True,
            )
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=_json_text(output))],
            structured_content=output,
        )

    def _find(self, actions: Sequence[ActionsServiceAction], name: str) -> ActionsServiceAction:
        for action in actions:
            if self.tool_name(action) == name:
                return action
        raise NotFoundError(f'Action "{name}" not found')

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self._logger.warn(message)
