"""One MCP server (the SDK's low-level ``Server``) whose tools are the caller's actions."""

from __future__ import annotations

from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server

from backstage_runtime import BackstageCredentials

from ._config import McpServerConfig
from ._metrics import McpMetrics
from ._tools import ActionTools

__all__ = ["CREDENTIALS_SCOPE_KEY", "build_mcp_server"]

#: Where the HTTP endpoint leaves the caller's credentials in the ASGI scope; the SDK hands the
#: request (and so its scope) to every handler, in either protocol era.
CREDENTIALS_SCOPE_KEY = "backstage.mcp_actions.credentials"


def _credentials(ctx: ServerRequestContext[Any, Any]) -> BackstageCredentials:
    request = ctx.request
    credentials = request.scope.get(CREDENTIALS_SCOPE_KEY) if request is not None else None
    if not isinstance(credentials, BackstageCredentials):
        # Only the HTTP endpoint runs this server, and it always sets them.
        raise RuntimeError("MCP request without Backstage credentials")
    return credentials


def build_mcp_server(
    tools: ActionTools, server: McpServerConfig, *, version: str, metrics: McpMetrics
) -> Server[Any]:
    """The MCP server announcing ``server``'s name and description and serving ``tools``,
    each request measured in ``metrics``.
    """

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        # The listing depends on who asks: never cacheable for anyone else (the default
        # cache scope is already private, with no time to live; say so explicitly).
        with metrics.operation("tools/list"):
            listed = await tools.list_tools(_credentials(ctx))
        return types.ListToolsResult(tools=listed, ttl_ms=0, cache_scope="private")

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        with metrics.operation("tools/call", params.name) as outcome:
            result = await tools.call_tool(_credentials(ctx), params.name, params.arguments)
            if result.is_error:
                outcome.error_type = "tool_error"
        return result

    return Server(
        server.name,
        version=version,
        description=server.description,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
