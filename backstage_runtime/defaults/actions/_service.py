"""Backstage's ``DefaultActionsService``: the actions of the plugins in
``backend.actions.pluginSources``, wherever they run, listed and invoked over HTTP.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

from ...api import Config, DiscoveryService
from ...api.errors import InputError, ResponseError
from ...api.services._json import JsonObject, JsonValue
from ...api.services.actions import ActionAttributes, ActionsServiceAction
from ...api.services.auth import AuthService, BackstageCredentials
from ...api.services.logger import LoggerService
from ...api.services.permissions import PermissionsService
from ._filter import read_action_filter
from ._overrides import apply_overrides
from ._remote_errors import error_from_response

__all__ = ["DefaultActionsService", "parse_action"]

_ACTIONS_PATH = "/.backstage/actions/v1/actions"
# Node sends a call with secrets to the v2 route, whose body wraps them apart from the input.
_ACTIONS_V2_PATH = "/.backstage/actions/v2/actions"


def _attributes(value: Any) -> ActionAttributes:
    value = value if isinstance(value, Mapping) else {}

    def flag(key: str) -> bool | None:
        item = value.get(key)
        return item if isinstance(item, bool) else None

    # A missing flag takes ActionAttributes' (Node's) default; destructive follows readOnly.
    return ActionAttributes(
        destructive=flag("destructive"),
        idempotent=flag("idempotent") or False,
        read_only=flag("readOnly") or False,
    )


def _examples(value: Any) -> tuple[JsonObject, ...] | None:
    if not isinstance(value, list):
        return None
    return tuple(dict(example) for example in value if isinstance(example, Mapping))


def parse_action(item: Any) -> tuple[ActionsServiceAction, JsonObject | None]:
    """An entry of a plugin's action listing and its ``visibilityPermission`` (if any).

    Raises :class:`ValueError` naming what is missing when the entry is not an action.
    """
    if not isinstance(item, Mapping):
        raise ValueError(f"an action must be an object, got {item!r}")
    for key in ("id", "name", "title", "description"):
        if not isinstance(item.get(key), str):
            raise ValueError(f"action {item.get('id')!r} has no string '{key}'")
    schema = item.get("schema")
    schema = schema if isinstance(schema, Mapping) else {}
    inputs, outputs, secrets = schema.get("input"), schema.get("output"), schema.get("secrets")
    action = ActionsServiceAction(
        id=item["id"],
        name=item["name"],
        title=item["title"],
        description=item["description"],
        input_schema=dict(inputs) if isinstance(inputs, Mapping) else {},
        output_schema=dict(outputs) if isinstance(outputs, Mapping) else {},
        attributes=_attributes(item.get("attributes")),
        secrets_schema=dict(secrets) if isinstance(secrets, Mapping) else None,
        examples=_examples(item.get("examples")),
    )
    permission = item.get("visibilityPermission")
    if isinstance(permission, Mapping) and isinstance(permission.get("name"), str):
        attributes = permission.get("attributes")
        return action, {
            "type": "basic",
            "name": permission["name"],
            "attributes": dict(attributes) if isinstance(attributes, Mapping) else {},
        }
    return action, None


class DefaultActionsService:
    """Lists and invokes actions across plugins, with the caller's credentials turned into a
    plugin token for each target plugin (``auth.get_plugin_request_token``).
    """

    def __init__(
        self,
        *,
        config: Config,
        logger: LoggerService,
        auth: AuthService,
        discovery: DiscoveryService,
        session: aiohttp.ClientSession,
        permissions: PermissionsService | None = None,
    ) -> None:
        self._config = config
        self._logger = logger
        self._auth = auth
        self._discovery = discovery
        self._session = session
        self._permissions = permissions

    async def _headers(self, plugin_id: str, credentials: BackstageCredentials) -> dict[str, str]:
        token = await self._auth.get_plugin_request_token(
            on_behalf_of=credentials, target_plugin_id=plugin_id
        )
        return {"Authorization": f"Bearer {token.token}"} if token.token else {}

    async def _fetch(
        self, source: str, credentials: BackstageCredentials
    ) -> list[tuple[ActionsServiceAction, JsonObject | None]]:
        url = f"{await self._discovery.get_base_url(source)}{_ACTIONS_PATH}"
        headers = await self._headers(source, credentials)
        async with self._session.get(url, headers=headers) as reply:
            text = await reply.text()
            if reply.status >= 300:
                raise error_from_response(reply.status, reply.reason, text)
        try:
            body = json.loads(text)
        except ValueError as error:
            raise ResponseError(
                f"The action listing of plugin '{source}' is not JSON: {error}",
                status_code=502,
            ) from None
        actions = body.get("actions") if isinstance(body, dict) else None
        if not isinstance(actions, list):
            raise ResponseError(
                f"The action listing of plugin '{source}' has no 'actions' list", status_code=502
            )
        return [parse_action(item) for item in actions]

    async def _source(
        self, source: str, credentials: BackstageCredentials
    ) -> list[tuple[ActionsServiceAction, JsonObject | None]]:
        try:
            return await self._fetch(source, credentials)
        except Exception as error:
            # As Node: a source that is down or answers garbage costs its actions, not the list.
            self._logger.warn(f"Failed to fetch actions from {source}", error)
            return []

    async def _permitted(
        self,
        entries: list[tuple[ActionsServiceAction, JsonObject | None]],
        credentials: BackstageCredentials,
    ) -> list[ActionsServiceAction]:
        guarded = [(action, permission) for action, permission in entries if permission]
        if not guarded or self._permissions is None:
            return [action for action, _ in entries]
        decisions = await self._permissions.authorize(
            [{"permission": permission} for _, permission in guarded], credentials=credentials
        )
        denied = {
            action.id
            for (action, _), decision in zip(guarded, decisions, strict=True)
            if decision.get("result") != "ALLOW"
        }
        return [action for action, _ in entries if action.id not in denied]

    async def list(self, *, credentials: BackstageCredentials) -> list[ActionsServiceAction]:
        """Every action of every plugin source that passes ``backend.actions.filter``, with
        ``backend.actions.overrides`` applied, whose visibility permission the caller holds; a
        failing source is logged and skipped.
        """
        sources = self._config.get_optional_string_array("backend.actions.pluginSources") or []
        listings = await asyncio.gather(*(self._source(source, credentials) for source in sources))
        action_filter = read_action_filter(self._config)
        entries = [entry for listing in listings for entry in listing]
        kept = [entry for entry in entries if action_filter.allows(entry[0])]
        return await self._permitted(apply_overrides(kept, self._config), credentials)

    async def invoke(
        self,
        *,
        id: str,
        input: JsonObject | None = None,
        credentials: BackstageCredentials,
        secrets: JsonObject | None = None,
    ) -> JsonValue:
        """Invoke action ``id`` on its plugin (the part before ``:``); raises the error the
        plugin answered with, rebuilt from its error JSON. With ``secrets`` the call goes to
        the v2 route (``{input, secrets}``), as Node's actions service sends it.
        """
        plugin_id, colon, _ = id.partition(":")
        if not colon or not plugin_id:
            raise InputError(f"Invalid action id: {id}")
        base = await self._discovery.get_base_url(plugin_id)
        path = _ACTIONS_PATH if secrets is None else _ACTIONS_V2_PATH
        url = f"{base}{path}/{quote(id, safe='')}/invoke"
        headers = await self._headers(plugin_id, credentials)
        kwargs: dict[str, Any] = {"headers": headers}
        if secrets is not None:
            kwargs["json"] = (
                {"secrets": secrets} if input is None else {"input": input, "secrets": secrets}
            )
        elif input is not None:
            kwargs["json"] = input
        async with self._session.post(url, **kwargs) as reply:
            text = await reply.text()
            if reply.status >= 300:
                raise error_from_response(reply.status, reply.reason, text)
        try:
            body = json.loads(text)
        except ValueError as error:
            raise ResponseError(
                f"The answer of action '{id}' is not JSON: {error}", status_code=502
            ) from None
        if not isinstance(body, dict):
            raise ResponseError(f"The answer of action '{id}' is not an object", status_code=502)
        # Node leaves "output" out of the JSON when the action returned nothing.
        output: JsonValue = body.get("output")
        return output
