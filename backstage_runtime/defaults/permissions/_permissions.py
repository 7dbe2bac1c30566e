"""Permission decisions: local for access-restricted service tokens, else the permission backend."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ...api import Deferred, DiscoveryService
from ...api.errors import ResponseError
from ...api.services._json import JsonObject, JsonValue
from ...api.services.auth import AuthService, BackstageCredentials, BackstageServicePrincipal

if TYPE_CHECKING:
    import aiohttp

__all__ = ["DefaultPermissionsService"]


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
    """Decisions for permission requests (``{"permission": {...}, "resourceRef"?: ...}``).

    ``session`` gives the backend's aiohttp session when a decision first needs the permission
    backend (a deferred ``runtime.httpClient``).
    """

    def __init__(
        self,
        *,
        enabled: bool,
        auth: AuthService,
        discovery: DiscoveryService,
        session: Deferred[aiohttp.ClientSession],
        batched: bool = False,
    ) -> None:
        self._enabled = enabled
        self._batched = batched
        self._auth = auth
        self._discovery = discovery
        self._session = session

    async def authorize(
        self,
        requests: Sequence[Mapping[str, Any]],
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
        requests: Sequence[Mapping[str, Any]],
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
        requests: Sequence[Mapping[str, Any]],
        credentials: BackstageCredentials,
        conditional: bool,
    ) -> list[JsonObject]:
        principal = credentials.principal
        if isinstance(principal, BackstageServicePrincipal):
            return [{"result": _local_decision(principal, r.get("permission"))} for r in requests]
        if not self._enabled:
            return [{"result": "ALLOW"} for _ in requests]
        if self._batched and not conditional:
            return await self._decide_batched(requests, credentials)
        items = [{"id": str(uuid.uuid4()), **request} for request in requests]
        answers = await self._post(items, credentials)
        decisions: list[JsonObject] = []
        for item in items:
            answer = answers[item["id"]]
            result = answer.get("result")
            if result == "CONDITIONAL" and conditional:
                decisions.append({key: value for key, value in answer.items() if key != "id"})
            elif result in ("ALLOW", "DENY"):
                decisions.append({"result": result})
            else:
                raise _unexpected(result)
        return decisions

    async def _decide_batched(
        self, requests: Sequence[Mapping[str, Any]], credentials: BackstageCredentials
    ) -> list[JsonObject]:
        # permission.EXPERIMENTAL_enableBatchedRequests: one item per permission name, resource
        # refs sent as a list and answered with a list of results in the same order.
        batch: dict[str, JsonObject] = {}
        refs: dict[str, list[JsonValue]] = {}
        for request in requests:
            permission = request.get("permission")
            key = _permission_name(permission)
            is_resource = isinstance(permission, dict) and permission.get("type") == "resource"
            if key not in batch:
                batch[key] = {"id": str(uuid.uuid4()), "permission": permission}
                if is_resource:
                    batch[key]["resourceRef"] = refs.setdefault(key, [])
            ref = request.get("resourceRef")
            if is_resource and ref:
                refs[key].append(ref)
        answers = await self._post(list(batch.values()), credentials)
        results = {key: answers[item["id"]].get("result") for key, item in batch.items()}
        taken = dict.fromkeys(results, 0)
        decisions: list[JsonObject] = []
        for request in requests:
            key = _permission_name(request.get("permission"))
            result = results[key]
            if isinstance(result, list):
                # Requests with a ref take the results in order; one without reads the first
                # (Backstage reads whatever is left first, nothing once all were taken).
                index = taken[key] if request.get("resourceRef") else 0
                if index >= len(result):
                    raise _unexpected(result)
                taken[key] += 1 if request.get("resourceRef") else 0
                result = result[index]
            if result not in ("ALLOW", "DENY"):
                raise _unexpected(result)
            decisions.append({"result": result})
        return decisions

    async def _post(
        self, items: list[JsonObject], credentials: BackstageCredentials
    ) -> dict[Any, JsonObject]:
        """POST ``items`` to the permission backend's ``/authorize``; the answers by id."""
        headers = {"Content-Type": "application/json"}
        if credentials.principal.type != "none":
            token = await self._auth.get_plugin_request_token(
                on_behalf_of=credentials, target_plugin_id="permission"
            )
            if token.token:
                headers["Authorization"] = f"Bearer {token.token}"
        url = f"{await self._discovery.get_base_url('permission')}/authorize"
        session = await self._session()
        async with session.post(url, json={"items": items}, headers=headers) as reply:
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
        return answers


def _permission_name(permission: Any) -> str:
    return str(permission.get("name") if isinstance(permission, dict) else None)


def _unexpected(result: Any) -> ResponseError:
    return ResponseError(f"Unexpected authorization result {result!r}", status_code=502)
