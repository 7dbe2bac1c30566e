"""One plugin's actions: registration, the listing a caller may see, invocation with validation,
and the HTTP routes (``/.backstage/actions/v1/actions``) the actions service calls.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from quart import Blueprint, request

from ...api.errors import ConflictError, InputError, NotAllowedError, NotFoundError
from ...api.services._json import JsonObject, JsonValue
from ...api.services.actions import ActionAttributes, ActionContext, ActionFunction
from ...api.services.auth import (
    BackstageCredentials,
    BackstageNonePrincipal,
    HttpAuthService,
)
from ...api.services.logger import LoggerService
from ...api.services.permissions import PermissionsService
from ._schemas import ActionSchema, SchemaViolation, compile_schema

__all__ = ["ActionsRegistry", "RegisteredAction", "attributes_json"]


def attributes_json(attributes: ActionAttributes) -> JsonObject:
    """``{"destructive", "idempotent", "readOnly"}`` as Node lists them."""
    return {
        "destructive": attributes.destructive,
        "idempotent": attributes.idempotent,
        "readOnly": attributes.read_only,
    }


def _basic_permission(permission: Mapping[str, Any] | None, action_id: str) -> JsonObject | None:
    if permission is None:
        return None
    name = permission.get("name")
    kind = permission.get("type", "basic")
    if not isinstance(name, str) or not name or kind != "basic":
        raise ValueError(
            f"The visibility_permission of action '{action_id}' must be a basic permission "
            f"({{'type': 'basic', 'name': ..., 'attributes': {{...}}}}), got {dict(permission)!r}"
        )
    attributes = permission.get("attributes") or {}
    return {"type": "basic", "name": name, "attributes": dict(attributes)}


def _examples(examples: Sequence[Mapping[str, Any]], action_id: str) -> tuple[JsonObject, ...]:
    checked: list[JsonObject] = []
    for index, example in enumerate(examples):
        if not (
            isinstance(example, Mapping)
            and isinstance(example.get("title"), str)
            and isinstance(example.get("input"), Mapping)
        ):
            raise ValueError(
                f"Example {index} of action '{action_id}' must be an object with a string "
                f"'title' and an object 'input' (and optionally 'description' and 'output'), "
                f"got {example!r}"
            )
        checked.append(dict(example))
    return tuple(checked)


@dataclass(frozen=True)
class RegisteredAction:
    """An action as registered: its id ``<pluginId>:<name>``, texts, schemas and function."""

    id: str
    plugin_id: str
    name: str
    title: str
    description: str
    action: ActionFunction
    input: ActionSchema
    output: ActionSchema
    attributes: ActionAttributes
    visibility_permission: JsonObject | None
    #: The secrets the action takes (None: it takes none, and a call with secrets is refused).
    secrets: ActionSchema | None = None
    #: Listed as given (Node leaves the key out when there are none).
    examples: tuple[JsonObject, ...] | None = None

    def to_json(self) -> JsonObject:
        """The entry of ``GET /.backstage/actions/v1/actions``."""
        schema: JsonObject = {"input": self.input.json_schema, "output": self.output.json_schema}
        if self.secrets is not None:
            schema["secrets"] = self.secrets.json_schema
        body: JsonObject = {
            "id": self.id,
            "name": self.name,
            "title": self.title,
            "description": self.description,
            # Node (backend-defaults 0.18) lists the serving plugin; its ActionsServiceAction
            # type requires it, so a Node client of our listing may rely on it.
            "pluginId": self.plugin_id,
            "attributes": attributes_json(self.attributes),
            "schema": schema,
        }
        if self.examples is not None:
            body["examples"] = list(self.examples)
        if self.visibility_permission is not None:
            # Node's actions service filters on it too; it needs no more than name and attributes.
            body["visibilityPermission"] = {
                "name": self.visibility_permission["name"],
                "attributes": self.visibility_permission["attributes"],
            }
        return body


class ActionsRegistry:
    """Backstage's ``DefaultActionsRegistryService`` for one plugin.

    Any authenticated caller (a service, a user, a user acting through a service) may invoke;
    an anonymous one is refused, as in Node.
    """

    def __init__(
        self,
        plugin_id: str,
        *,
        logger: LoggerService,
        http_auth: HttpAuthService | None = None,
        permissions: PermissionsService | None = None,
    ) -> None:
        self._plugin_id = plugin_id
        self._logger = logger
        self._http_auth = http_auth
        self._permissions = permissions
        self._actions: dict[str, RegisteredAction] = {}

    @property
    def plugin_id(self) -> str:
        """The plugin whose actions these are."""
        return self._plugin_id

    @property
    def actions(self) -> Mapping[str, RegisteredAction]:
        """Every registered action by id."""
        return dict(self._actions)

    def register(
        self,
        *,
        name: str,
        title: str,
        description: str,
        action: ActionFunction,
        input_schema: type[Any] | Mapping[str, Any] | None = None,
        output_schema: type[Any] | Mapping[str, Any] | None = None,
        attributes: ActionAttributes | None = None,
        visibility_permission: Mapping[str, Any] | None = None,
        secrets_schema: type[Any] | Mapping[str, Any] | None = None,
        examples: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Register ``name`` as ``<pluginId>:<name>``; see
        :meth:`~backstage_runtime.api.ActionsRegistryService.register`.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"An action of plugin '{self._plugin_id}' needs a non-empty name")
        action_id = f"{self._plugin_id}:{name}"
        if action_id in self._actions:
            raise ConflictError(f'Action with id "{action_id}" is already registered')
        if not callable(action):
            raise ValueError(f"The action function of '{action_id}' is not callable")
        self._actions[action_id] = RegisteredAction(
            id=action_id,
            plugin_id=self._plugin_id,
            name=name,
            title=title,
            description=description,
            action=action,
            input=compile_schema(input_schema, label=f"input schema of action '{action_id}'"),
            output=compile_schema(output_schema, label=f"output schema of action '{action_id}'"),
            attributes=attributes if attributes is not None else ActionAttributes(),
            visibility_permission=_basic_permission(visibility_permission, action_id),
            secrets=None
            if secrets_schema is None
            else compile_schema(secrets_schema, label=f"secrets schema of action '{action_id}'"),
            examples=None if examples is None else _examples(examples, action_id),
        )

    async def _visible(
        self, actions: list[RegisteredAction], credentials: BackstageCredentials
    ) -> list[RegisteredAction]:
        guarded = [action for action in actions if action.visibility_permission is not None]
        if not guarded or self._permissions is None:
            return actions
        decisions = await self._permissions.authorize(
            [{"permission": action.visibility_permission} for action in guarded],
            credentials=credentials,
        )
        denied = {
            action.id
            for action, decision in zip(guarded, decisions, strict=True)
            if decision.get("result") != "ALLOW"
        }
        return [action for action in actions if action.id not in denied]

    async def list(self, credentials: BackstageCredentials) -> list[RegisteredAction]:
        """The actions ``credentials`` may see (their visibility permission allowed)."""
        return await self._visible(list(self._actions.values()), credentials)

    @staticmethod
    def check_caller(credentials: BackstageCredentials) -> None:
        """Refuse an anonymous caller (``NotAllowedError``), as Node does.

        Node's registry (backend-defaults 0.18) takes any authenticated principal, a user's
        own token included; earlier releases required a service (or a user through one).
        """
        if isinstance(credentials.principal, BackstageNonePrincipal):
            raise NotAllowedError(
                "Actions must be invoked by an authenticated principal, not an anonymous request"
            )

    async def find(self, action_id: str, credentials: BackstageCredentials) -> RegisteredAction:
        """The action ``action_id`` if ``credentials`` may see it; ``NotFoundError`` otherwise
        (an action the caller may not see answers exactly as one that does not exist).
        """
        action = self._actions.get(action_id)
        if action is None or not await self._visible([action], credentials):
            raise NotFoundError(f'Action "{action_id}" not found')
        return action

    @staticmethod
    def _secrets(action: RegisteredAction, secrets: Any) -> Any:
        if action.secrets is None:
            if secrets is not None:
                raise InputError(f'Action "{action.id}" does not accept secrets')
            return None
        if secrets is None:
            raise InputError(f'Action "{action.id}" requires secrets but none were provided')
        try:
            return action.secrets.parse(secrets)
        except SchemaViolation as violation:
            # Name the field only: a schema's message may quote the (secret) value.
            where = f": {violation.where} is invalid" if violation.where else ""
            raise InputError(f'Invalid secrets for action "{action.id}"{where}') from None

    async def run(
        self,
        action: RegisteredAction,
        input: Any,
        credentials: BackstageCredentials,
        secrets: Any = None,
    ) -> JsonValue:
        """Validate ``input`` (and ``secrets``), run the action, validate and return its output.

        An invalid input or output is an :class:`InputError` naming the field, as are secrets
        given to an action that takes none, or missing or invalid for one that does; whatever
        the action raises goes to the caller as it is (its name and status on the wire), as
        Node's registry (backend-defaults 0.18) does: it no longer wraps them in a
        ``ForwardedError``.
        """
        try:
            parsed = action.input.parse(input)
        except SchemaViolation as violation:
            raise InputError(f'Invalid input to action "{action.id}": {violation}') from None
        context = ActionContext(
            input=parsed,
            logger=self._logger,
            credentials=credentials,
            secrets=self._secrets(action, secrets),
        )
        result = action.action(context)
        if inspect.isawaitable(result):
            # A plain function is taken too: plugin authors write both.
            result = await result
        try:
            return action.output.dump(action.output.parse(result))
        except SchemaViolation as violation:
            raise InputError(f'Invalid output from action "{action.id}": {violation}') from None

    async def invoke(
        self,
        action_id: str,
        input: Any,
        credentials: BackstageCredentials,
        secrets: Any = None,
    ) -> JsonValue:
        """Check the caller, find the action and run it (what the invoke routes do)."""
        self.check_caller(credentials)
        action = await self.find(action_id, credentials)
        return await self.run(action, input, credentials, secrets)

    def routes(self) -> Blueprint:
        """``GET /.backstage/actions/v1/actions``, ``POST …/v1/actions/<actionId>/invoke`` (the
        body is the input) and ``POST …/v2/actions/<actionId>/invoke`` (``{input, secrets}``).
        """
        if self._http_auth is None:
            raise RuntimeError("The actions routes need the plugin's http auth service")
        http_auth = self._http_auth
        # Each plugin has a Quart app of its own, so a fixed name cannot clash (and a plugin id
        # with a dot would not be a valid blueprint name).
        routes = Blueprint("backstage_actions", __name__)
        registry = self

        @routes.get("/.backstage/actions/v1/actions")
        async def list_actions() -> Any:
            credentials = await http_auth.credentials(request)
            return {"actions": [action.to_json() for action in await registry.list(credentials)]}

        async def body() -> Any:
            # express.json(): an empty or non-JSON body is an empty object.
            data = await request.get_data(as_text=False)
            parsed = await request.get_json() if data.strip() else None
            return {} if parsed is None else parsed

        @routes.post("/.backstage/actions/v1/actions/<path:action_id>/invoke")
        async def invoke_action(action_id: str) -> Any:
            credentials = await http_auth.credentials(request)
            registry.check_caller(credentials)
            action = await registry.find(action_id, credentials)
            return {"output": await registry.run(action, await body(), credentials)}

        @routes.post("/.backstage/actions/v2/actions/<path:action_id>/invoke")
        async def invoke_action_v2(action_id: str) -> Any:
            credentials = await http_auth.credentials(request)
            registry.check_caller(credentials)
            action = await registry.find(action_id, credentials)
            wrapped = await body()
            if not isinstance(wrapped, dict):
                raise InputError("The v2 invoke body must be an object {input, secrets}")
            input = wrapped.get("input")
            output = await registry.run(
                action, {} if input is None else input, credentials, wrapped.get("secrets")
            )
            return {"output": output}

        return routes
