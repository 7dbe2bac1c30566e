"""``core.actionsRegistry`` and ``core.actions``: typed actions a plugin registers, served over
HTTP and callable from other plugins and backends (Backstage's actions registry and actions
services, which the MCP actions backend exposes as MCP tools).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..._public import publish_lazy_module
from ._json import JsonObject, JsonValue
from .auth import BackstageCredentials
from .logger import LoggerService

__all__ = [
    "ActionAttributes",
    "ActionContext",
    "ActionFunction",
    "ActionsRegistryService",
    "ActionsService",
    "ActionsServiceAction",
]


@dataclass(frozen=True, init=False)
class ActionAttributes:
    """What an action does to the world, as MCP tool annotations describe it.

    On the wire these are ``{"destructive", "idempotent", "readOnly"}``. The defaults are
    Node's (backend-defaults 0.18): neither idempotent nor read-only, and destructive unless
    said otherwise — where an action that says it is read-only is taken as not destructive
    (``ActionAttributes(read_only=True).destructive`` is False).
    """

    destructive: bool
    idempotent: bool
    read_only: bool

    def __init__(
        self, destructive: bool | None = None, idempotent: bool = False, read_only: bool = False
    ) -> None:
        # Frozen: the fields are set once here, with destructive resolved against read_only.
        object.__setattr__(
            self, "destructive", not read_only if destructive is None else destructive
        )
        object.__setattr__(self, "idempotent", idempotent)
        object.__setattr__(self, "read_only", read_only)


@dataclass(frozen=True)
class ActionContext:
    """What an action receives: its validated ``input`` (a pydantic model instance when the
    input schema is a model, else the JSON object), the plugin's ``logger``, the caller's
    ``credentials`` and, for an action with a secrets schema, the validated ``secrets``.
    """

    input: Any
    logger: LoggerService = field(repr=False)
    credentials: BackstageCredentials
    #: The validated secrets of the call (a model instance or the JSON object), or None for an
    #: action without a secrets schema. Kept out of the repr so that it never reaches a log.
    secrets: Any = field(default=None, repr=False)


#: An action: ``async def action(context: ActionContext) -> output`` — the output is a JSON
#: value or a pydantic model instance (validated against the output schema), or None. The
#: default registry also accepts a plain (non-async) function.
ActionFunction = Callable[[ActionContext], Awaitable[Any]]


class ActionsRegistryService(Protocol):
    """Registers this plugin's actions; each is served under the plugin's
    ``/.backstage/actions/v1/actions`` with the id ``<pluginId>:<name>``.
    """

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
        """Register an action.

        ``input_schema`` / ``output_schema`` are a pydantic model class or a JSON Schema
        (draft 7) object; the input is validated before ``action`` runs and its output after.
        ``visibility_permission`` is a basic permission (``{"type": "basic", "name": ...,
        "attributes": {...}}``): a caller denied it neither sees nor invokes the action (invoking
        it answers 404, as for an unknown action).
        ``secrets_schema`` (same forms) makes the action take secrets (credentials of the end
        user, as Node's ``schema.secrets``): they come apart from the input (the v2 invoke
        route), are required and validated, and reach the action as ``context.secrets``.
        ``examples`` (``[{"title", "description"?, "input", "output"?}]``) are listed as they
        are, for the people and models that read the listing.
        Registering a name twice raises :class:`~backstage_runtime.api.errors.ConflictError`.
        """


@dataclass(frozen=True)
class ActionsServiceAction:
    """An action as the actions service lists it (the JSON of Node's ``ActionsServiceAction``)."""

    id: str
    name: str
    title: str
    description: str
    input_schema: JsonObject
    output_schema: JsonObject
    attributes: ActionAttributes = ActionAttributes()
    #: The JSON Schema of the secrets the action takes (None: it takes none).
    secrets_schema: JsonObject | None = None
    #: The action's examples (``{"title", "description"?, "input", "output"?}``), if it has any.
    examples: tuple[JsonObject, ...] | None = None


class ActionsService(Protocol):
    """Lists and invokes the actions of the plugins named in ``backend.actions.pluginSources``,
    wherever they run (this backend, another Python backend or a Node one), with the caller's
    credentials turned into plugin tokens.
    """

    async def list(self, *, credentials: BackstageCredentials) -> list[ActionsServiceAction]:
        """Every action the caller may see, after ``backend.actions.filter``."""

    async def invoke(
        self,
        *,
        id: str,
        input: JsonObject | None = None,
        credentials: BackstageCredentials,
        secrets: JsonObject | None = None,
    ) -> JsonValue:
        """Run action ``id`` (``<pluginId>:<name>``) and return its output; ``secrets`` go to an
        action that takes them (sent through the v2 invoke route, as Node sends them).

        Raises the Backstage error the serving plugin answered with (``InputError`` for an
        invalid input, ``NotFoundError`` for an unknown or invisible action, ...).
        """


# Loaded on first use (backstage_runtime.api is lazy for it): the names take their public module
# here, however this module was first imported.
publish_lazy_module(globals())
