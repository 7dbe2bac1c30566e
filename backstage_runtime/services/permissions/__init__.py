"""Default ``core.permissions``: Backstage's ``ServerPermissionClient``.

Service callers are answered locally (their token's access restrictions, else ALLOW); with
``permission.enabled`` not true everything is allowed; otherwise requests go to the permission
backend's ``/authorize`` with a plugin token on behalf of the caller.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import aiohttp

from ...api import (
    Config,
    DiscoveryService,
    ServiceFactory,
    core_services,
    create_service_factory,
    runtime_services,
)
from ...api.errors import ResponseError
from ...api.services._json import JsonObject
from ...api.services.auth import AuthService, BackstageCredentials, BackstageServicePrincipal

__all__ = ["DefaultPermissionsService", "permissions_service_factory"]


def _local_decision(principal: BackstageServicePrincipal, permission: Any) -> str:
    restrictions = principal.access_restrictions
    if restrictions is None:
        return "ALLOW"
    name = permission.get("name") if isinstance(permission, dict) else None
    if restrictions.permission_names is not None and name not in restrictions.permission_names:
        return "DENY"
    if restrictions.permission_actions is not None:
        attributes = permission.get("attributes") if isinstance(permission, dict) else None
        action = attributes.get("action") if isinstance(attributes, dict) else None
        if action not in restrictions.permission_actions:
            return "DENY"
    return "ALLOW"


class DefaultPermissionsService:
    """Decisions for permission requests (``{"permission": {...}, "resourceRef"?: ...}``)."""

    def __init__(
        self,
        *,
        enabled: bool,
        auth: AuthService,
        discovery: DiscoveryService,
        session: aiohttp.ClientSession,
    ) -> None:
        self._enabled = enabled
        self._auth = auth
        self._discovery = discovery
        self._session = session

    async def authorize(
        self,
        requests: Sequence[JsonObject],
        *,
        credentials: BackstageCredentials | None = None,
        token: str | None = None,
    ) -> list[JsonObject]:
        """One ``{"result": "ALLOW"|"DENY"}`` per request, in order. ``token=`` is the legacy
        form (a user token, e.g. from the identity service) instead of ``credentials``.
        """
        return await self._decide(requests, await self._resolve(credentials, token), False)

    async def authorize_conditional(
        self,
        requests: Sequence[JsonObject],
        *,
        credentials: BackstageCredentials | None = None,
        token: str | None = None,
    ) -> list[JsonObject]:
        """Like :meth:`authorize`; resource permissions may come back ``CONDITIONAL`` with
        ``pluginId``, ``resourceType`` and ``conditions``.
        """
        return await self._decide(requests, await self._resolve(credentials, token), True)

    async def _resolve(
        self, credentials: BackstageCredentials | None, token: str | None
    ) -> BackstageCredentials:
        if credentials is not None:
            return credentials
        if token:
            return await self._auth.authenticate(token)
        return await self._auth.get_none_credentials()

    async def _decide(
        self,
        requests: Sequence[JsonObject],
        credentials: BackstageCredentials,
        conditional: bool,
    ) -> list[JsonObject]:
        principal = credentials.principal
        if isinstance(principal, BackstageServicePrincipal):
            return [{"result": _local_decision(principal, r.get("permission"))} for r in requests]
        if not self._enabled:
            return [{"result": "ALLOW"} for _ in requests]
        items = [{"id": str(uuid.uuid4()), **request} for request in requests]
        headers = {"Content-Type": "application/json"}
        if principal.type != "none":
            token = await self._auth.get_plugin_request_token(
                on_behalf_of=credentials, target_plugin_id="permission"
            )
            if token.token:
                headers["Authorization"] = f"Bearer {token.token}"
        url = f"{await self._discovery.get_base_url('permission')}/authorize"
        async with self._session.post(url, json={"items": items}, headers=headers) as reply:
            if reply.status >= 300:
                raise ResponseError(
                    f"Request failed with {reply.status} {reply.reason or ''}".strip(),
                    status_code=reply.status,
                    body=await reply.text(),
                )
            body = await reply.json(content_type=None)
        answers = {item.get("id"): item for item in body.get("items", []) if isinstance(item, dict)}
        if set(answers) != {item["id"] for item in items}:
            raise ResponseError(
                "Unexpected authorization response: the item ids do not match the request",
                status_code=502,
            )
        decisions: list[JsonObject] = []
        for item in items:
            answer = answers[item["id"]]
            result = answer.get("result")
            if result == "CONDITIONAL" and conditional:
                decisions.append({key: value for key, value in answer.items() if key != "id"})
            elif result in ("ALLOW", "DENY"):
                decisions.append({"result": result})
            else:
                raise ResponseError(f"Unexpected authorization result {result!r}", status_code=502)
        return decisions


def permissions_service_factory() -> ServiceFactory[Any]:
    """The default ``core.permissions`` factory (``permission.enabled``, default false)."""

    def factory(
        *,
        config: Config,
        auth: AuthService,
        discovery: DiscoveryService,
        http_client: aiohttp.ClientSession,
    ) -> DefaultPermissionsService:
        return DefaultPermissionsService(
            enabled=bool(config.get_optional_boolean("permission.enabled")),
            auth=auth,
            discovery=discovery,
            session=http_client,
        )

    return create_service_factory(
        service=core_services.permissions,
        deps={
            "config": core_services.root_config,
            "auth": core_services.auth,
            "discovery": core_services.discovery,
            "http_client": runtime_services.http_client,
        },
        factory=factory,
    )
