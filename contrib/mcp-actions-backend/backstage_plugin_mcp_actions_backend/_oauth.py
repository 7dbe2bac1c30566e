"""The OAuth discovery documents MCP clients look for, on the root router (as Node mounts them)
when the auth backend registers clients dynamically or accepts client ID metadata documents:

- ``/.well-known/oauth-authorization-server``: the auth backend's OpenID configuration (RFC 8414;
  most MCP clients ask here rather than follow a ``WWW-Authenticate`` header).
- ``/.well-known/oauth-protected-resource/<MCP endpoint path>``: which authorization server
  guards that endpoint (RFC 9728), for each endpoint this plugin serves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from quart import Blueprint, Response

from backstage_runtime import Config, DiscoveryService

__all__ = ["oauth_discovery_enabled", "oauth_discovery_routes"]

AUTHORIZATION_SERVER_PATH = "/.well-known/oauth-authorization-server"
PROTECTED_RESOURCE_PATH = "/.well-known/oauth-protected-resource"


def oauth_discovery_enabled(config: Config) -> bool:
    """Whether the auth backend's client registration makes the discovery documents useful:
    ``auth.experimentalDynamicClientRegistration.enabled``, ``auth.clientIdMetadataDocuments
    .enabled`` or its deprecated ``auth.experimentalClientIdMetadataDocuments.enabled``.
    """
    keys = (
        "auth.experimentalDynamicClientRegistration.enabled",
        "auth.clientIdMetadataDocuments.enabled",
        "auth.experimentalClientIdMetadataDocuments.enabled",
    )
    return any(config.get_optional_boolean(key) for key in keys)


def _scopes(config: Config) -> list[str]:
    # A client asks for offline_access (and so gets a refresh token) only if it is listed.
    refresh = config.get_optional("auth.experimentalRefreshToken")
    enabled = refresh is True or (isinstance(refresh, dict) and refresh.get("enabled") is True)
    return ["openid", "offline_access"] if enabled else ["openid"]


def oauth_discovery_routes(
    config: Config, discovery: DiscoveryService, endpoint_paths: Sequence[str]
) -> tuple[Blueprint, Blueprint]:
    """The blueprints to mount at :data:`AUTHORIZATION_SERVER_PATH` and
    :data:`PROTECTED_RESOURCE_PATH`; ``endpoint_paths`` are the MCP endpoints below the
    plugin's mount (``/v1``, ``/v1/<key>``).
    """
    authorization_server = Blueprint("mcp_actions_oauth_authorization_server", __name__)
    protected_resource = Blueprint("mcp_actions_oauth_protected_resource", __name__)
    scopes = _scopes(config)

    @authorization_server.get("/")
    async def openid_configuration() -> Any:
        url = f"{await discovery.get_base_url('auth')}/.well-known/openid-configuration"
        async with aiohttp.ClientSession() as session, session.get(url) as reply:
            return await reply.json(content_type=None)

    @protected_resource.get("/<path:resource_path>")
    async def resource_metadata(resource_path: str) -> Any:
        requested = f"/{resource_path}"
        mcp_base = urlsplit(await discovery.get_external_base_url("mcp-actions"))
        served = {f"{mcp_base.path.rstrip('/')}{path}" for path in endpoint_paths}
        if requested not in served:
            return Response("Not Found", status=404, content_type="text/plain; charset=utf-8")
        return {
            "resource": f"{mcp_base.scheme}://{mcp_base.netloc}{requested}",
            "authorization_servers": [await discovery.get_external_base_url("auth")],
            "scopes_supported": scopes,
        }

    return authorization_server, protected_resource
