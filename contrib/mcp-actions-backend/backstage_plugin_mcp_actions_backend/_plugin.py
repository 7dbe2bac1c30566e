"""The ``mcp-actions`` plugin: the actions of ``core.actions`` served as MCP tools."""

from __future__ import annotations

from typing import Any

from mcp.server.lowlevel import Server
from opentelemetry.metrics import MeterProvider

from backstage_runtime import (
    ActionsService,
    BackendPlugin,
    Config,
    DiscoveryService,
    HttpAuthService,
    HttpRouterService,
    LoggerService,
    PluginRegistrationPoints,
    RootHttpRouterService,
    actions_service_ref,
    core_services,
    create_backend_plugin,
)

from ._config import read_server_configs
from ._endpoint import McpEndpoint
from ._metrics import McpMetrics
from ._oauth import (
    AUTHORIZATION_SERVER_PATH,
    PROTECTED_RESOURCE_PATH,
    oauth_discovery_enabled,
    oauth_discovery_routes,
)
from ._server import build_mcp_server
from ._tools import ActionTools
from ._version import __version__

__all__ = ["create_mcp_actions_plugin", "mcp_actions_plugin"]


def _register(env: PluginRegistrationPoints, meter_provider: MeterProvider | None) -> None:
    async def init(
        *,
        config: Config,
        logger: LoggerService,
        http: HttpRouterService,
        http_auth: HttpAuthService,
        actions: ActionsService,
        root_http: RootHttpRouterService,
        discovery: DiscoveryService,
    ) -> None:
        metrics = McpMetrics(meter_provider)
        namespaced = config.get_optional_boolean("mcpActions.namespacedToolNames")
        servers: dict[str, Server[Any]] = {}
        for server_config in read_server_configs(config):
            tools = ActionTools(
                actions,
                logger,
                server=server_config,
                namespaced_tool_names=True if namespaced is None else namespaced,
            )
            servers[server_config.path] = build_mcp_server(
                tools, server_config, version=__version__, metrics=metrics
            )
        # No auth policy: as in Node, every MCP request needs user or service credentials.
        http.use(McpEndpoint(servers, http_auth, logger, metrics))
        if oauth_discovery_enabled(config):
            authorization_server, protected_resource = oauth_discovery_routes(
                config, discovery, list(servers)
            )
            root_http.use(AUTHORIZATION_SERVER_PATH, authorization_server)
            root_http.use(PROTECTED_RESOURCE_PATH, protected_resource)

    env.register_init(
        deps={
            "config": core_services.root_config,
            "logger": core_services.logger,
            "http": core_services.http_router,
            "http_auth": core_services.http_auth,
            "actions": actions_service_ref,
            "root_http": core_services.root_http_router,
            "discovery": core_services.discovery,
        },
        init=init,
    )


def create_mcp_actions_plugin(*, meter_provider: MeterProvider | None = None) -> BackendPlugin:
    """The ``mcp-actions`` plugin, its metrics recorded with ``meter_provider`` (default: the
    global OpenTelemetry meter provider).
    """
    return create_backend_plugin(
        plugin_id="mcp-actions", register=lambda env: _register(env, meter_provider)
    )


#: The ``mcp-actions`` plugin; the distribution advertises it as the ``mcp-actions`` entry point.
mcp_actions_plugin = create_mcp_actions_plugin()
