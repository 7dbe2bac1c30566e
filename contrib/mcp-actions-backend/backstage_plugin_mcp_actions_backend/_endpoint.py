"""The Streamable HTTP endpoints (an ASGI application mounted on the plugin's router).

Each ``POST`` gets a server and transport of its own, stateless (no ``Mcp-Session-Id``), as in
Node: any instance of the backend can answer any request, without sticky sessions. ``GET`` (the
server-to-client stream) and ``DELETE`` (ending a session) answer 405 with a JSON-RPC error.
The request has passed the plugin's credentials barrier (a user or a service); its credentials
go to the MCP handlers through the ASGI scope.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from backstage_runtime import HttpAuthService, LoggerService, NotFoundError

from ._metrics import McpMetrics, error_type
from ._server import CREDENTIALS_SCOPE_KEY

__all__ = ["McpEndpoint"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def _send_json_rpc_error(send: Send, status: int, code: int, message: str) -> None:
    body = {"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": None}
    payload = json.dumps(body, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _protocol_version(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"mcp-protocol-version":
            return bytes(value).decode("latin-1")
    # The initialize request carries none; Node reports this version for every exchange.
    return "2025-06-18"


class McpEndpoint:
    """Serves the MCP servers in ``servers`` (keyed by their path below the plugin mount);
    any other path is a ``NotFoundError``, which the backend answers with its error JSON.
    """

    def __init__(
        self,
        servers: Mapping[str, Server[Any]],
        http_auth: HttpAuthService,
        logger: LoggerService,
        metrics: McpMetrics,
    ) -> None:
        self._servers = dict(servers)
        self._http_auth = http_auth
        self._logger = logger
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request."""
        if scope["type"] != "http":
            return
        method: str = scope["method"]
        path: str = scope["path"][len(scope.get("root_path", "")) :]
        # Express routes are not strict about a trailing slash.
        server = self._servers.get(path.rstrip("/") or "/")
        if server is None or method not in ("POST", "GET", "DELETE"):
            raise NotFoundError(f"No route for {method} {path or '/'}")
        if method != "POST":
            await _send_json_rpc_error(send, 405, -32000, "Method not allowed.")
            return
        scope[CREDENTIALS_SCOPE_KEY] = await self._http_auth.credentials(scope)
        await self._serve(server, scope, receive, send)

    async def _serve(self, server: Server[Any], scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        # A manager per request: its task group (the server side of this one exchange) lives
        # inside the request, so a request cancelled at shutdown takes it along.
        manager = StreamableHTTPSessionManager(app=server, stateless=True)
        with self._metrics.session(_protocol_version(scope)) as outcome:
            try:
                async with manager.run():
                    await manager.handle_request(scope, receive, watched_send)
            except Exception as error:
                outcome.error_type = error_type(error)
                self._logger.error(f"MCP request failed: {error}", error)
                if not started:
                    await _send_json_rpc_error(send, 500, -32603, "Internal server error")
