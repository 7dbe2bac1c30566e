"""``mock_services.actions_registry`` and ``mock_services.actions``: actions registered and
invoked in process, validated exactly as the default registry validates them, no HTTP.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

from ..api import (
    LoggerService,
    PluginMetadataService,
    ServiceFactory,
    core_services,
    create_service_factory,
)
from ..api._actions_refs import actions_registry_service_ref, actions_service_ref
from ..api.errors import NotFoundError
from ..api.services._json import JsonObject, JsonValue
from ..api.services.actions import (
    ActionAttributes,
    ActionFunction,
    ActionsRegistryService,
    ActionsService,
    ActionsServiceAction,
)
from ..api.services.auth import BackstageCredentials
from ..api.services.permissions import PermissionsService
from ..defaults.actions_registry import ActionsRegistry, RegisteredAction
from ._mock_auth import mock_credentials
from ._mock_logger import MockRootLogger
from ._service_mock import ServiceMock, build_service_mock

__all__ = ["MockActionsRegistry", "MockActionsService", "mock_actions", "mock_actions_registry"]


def _listed(action: RegisteredAction) -> ActionsServiceAction:
    return ActionsServiceAction(
        id=action.id,
        name=action.name,
        title=action.title,
        description=action.description,
        input_schema=action.input.json_schema,
        output_schema=action.output.json_schema,
        attributes=action.attributes,
        secrets_schema=None if action.secrets is None else action.secrets.json_schema,
        examples=action.examples,
    )


class MockActionsRegistry:
    """An actions registry for tests (Backstage's ``mockServices.actionsRegistry``).

    It registers like the default registry (ids ``<pluginId>:<name>``, default plugin ``test``,
    duplicates refused, schemas compiled) and :meth:`invoke` runs an action directly, validating
    input and output the same way, without the caller check of the HTTP route. Registries made
    with :meth:`for_plugin` (and the ones :meth:`factory` hands to plugins) share one set of
    actions, so :meth:`list` and :meth:`invoke` see every plugin's. It is an
    :class:`~backstage_runtime.api.ActionsService` too.
    """

    def __init__(
        self,
        plugin_id: str = "test",
        *,
        logger: LoggerService | None = None,
        permissions: PermissionsService | None = None,
        _shared: dict[str, ActionsRegistry] | None = None,
    ) -> None:
        self._plugin_id = plugin_id
        self._logger: LoggerService = logger if logger is not None else MockRootLogger()
        self._permissions = permissions
        self._registries = _shared if _shared is not None else {}

    def _registry(self, plugin_id: str) -> ActionsRegistry:
        registry = self._registries.get(plugin_id)
        if registry is None:
            registry = ActionsRegistry(
                plugin_id, logger=self._logger, permissions=self._permissions
            )
            self._registries[plugin_id] = registry
        return registry

    @property
    def actions(self) -> Mapping[str, RegisteredAction]:
        """Every registered action of every plugin, by id."""
        return {
            action_id: action
            for registry in self._registries.values()
            for action_id, action in registry.actions.items()
        }

    def for_plugin(self, plugin_id: str) -> MockActionsRegistry:
        """The registry plugin ``plugin_id`` gets: same actions, ids under its plugin id."""
        return MockActionsRegistry(
            plugin_id, logger=self._logger, permissions=self._permissions, _shared=self._registries
        )

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
        """Register an action as ``<pluginId>:<name>`` (see the default registry)."""
        self._registry(self._plugin_id).register(
            name=name,
            title=title,
            description=description,
            action=action,
            input_schema=input_schema,
            output_schema=output_schema,
            attributes=attributes,
            visibility_permission=visibility_permission,
            secrets_schema=secrets_schema,
            examples=examples,
        )

    async def list(
        self, *, credentials: BackstageCredentials | None = None
    ) -> builtins.list[ActionsServiceAction]:
        """Every registered action ``credentials`` may see (default: none credentials)."""
        who = credentials if credentials is not None else mock_credentials.none()
        listed: builtins.list[ActionsServiceAction] = []
        for registry in self._registries.values():
            listed.extend(_listed(action) for action in await registry.list(who))
        return listed

    async def invoke(
        self,
        name_or_id: str | None = None,
        input: JsonObject | None = None,
        *,
        id: str | None = None,
        credentials: BackstageCredentials | None = None,
        secrets: JsonObject | None = None,
    ) -> JsonValue:
        """Run an action by name (this plugin's) or id and return its output (JSON).

        Raises ``NotFoundError`` for an unknown action (naming the registered ones),
        ``InputError`` for an invalid input or output (or secrets missing, invalid or not
        taken), and the action's own failure as it raised it, as the invoke routes do.
        """
        target = id if id is not None else name_or_id
        if target is None:
            raise TypeError("invoke() needs an action name or id")
        action_id = target if ":" in target else f"{self._plugin_id}:{target}"
        who = credentials if credentials is not None else mock_credentials.none()
        registry = self._registries.get(action_id.partition(":")[0])
        if registry is None or action_id not in registry.actions:
            known = ", ".join(f'"{known}"' for known in self.actions) or "none"
            raise NotFoundError(f'Action "{action_id}" not found, available actions: {known}')
        action = await registry.find(action_id, who)
        return await registry.run(action, {} if input is None else input, who, secrets)

    def factory(self) -> ServiceFactory[ActionsRegistryService]:
        """A ``core.actionsRegistry`` factory giving every plugin a registry on these actions
        (no routes are mounted).
        """

        def factory(*, plugin_metadata: PluginMetadataService) -> MockActionsRegistry:
            return self.for_plugin(plugin_metadata.get_id())

        return create_service_factory(
            service=actions_registry_service_ref,
            deps={"plugin_metadata": core_services.plugin_metadata},
            factory=factory,
        )


class MockActionsService:
    """An actions service for tests (Backstage's ``mockServices.actions``): lists and invokes
    the actions of a :class:`MockActionsRegistry` in process.
    """

    def __init__(self, registry: MockActionsRegistry | None = None) -> None:
        #: The registry whose actions this service lists and invokes.
        self.registry = registry if registry is not None else MockActionsRegistry()

    async def list(
        self, *, credentials: BackstageCredentials
    ) -> builtins.list[ActionsServiceAction]:
        """The registry's actions ``credentials`` may see."""
        return await self.registry.list(credentials=credentials)

    async def invoke(
        self,
        *,
        id: str,
        input: JsonObject | None = None,
        credentials: BackstageCredentials,
        secrets: JsonObject | None = None,
    ) -> JsonValue:
        """Run action ``id`` of the registry (with ``secrets`` for an action that takes them)."""
        return await self.registry.invoke(
            id=id, input=input, credentials=credentials, secrets=secrets
        )

    def factory(self) -> ServiceFactory[ActionsService]:
        """A ``core.actions`` factory serving this service to every plugin."""
        return create_service_factory(service=actions_service_ref, factory=lambda: self)


class _MockActionsRegistryHelper:
    def __call__(
        self, plugin_id: str = "test", *, permissions: PermissionsService | None = None
    ) -> MockActionsRegistry:
        """A mock registry for ``plugin_id`` (``permissions`` decides visibility; default: all
        actions visible).
        """
        return MockActionsRegistry(plugin_id, permissions=permissions)

    def factory(self) -> ServiceFactory[ActionsRegistryService]:
        """A mock ``core.actionsRegistry`` factory (a fresh shared registry)."""
        return MockActionsRegistry().factory()

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.actionsRegistry`` (``register``)."""
        return build_service_mock(
            actions_registry_service_ref, ActionsRegistryService, implementations
        )


class _MockActionsHelper:
    def __call__(self, registry: MockActionsRegistry | None = None) -> MockActionsService:
        """A mock actions service over ``registry`` (default: a fresh one)."""
        return MockActionsService(registry)

    def factory(
        self, registry: MockActionsRegistry | None = None
    ) -> ServiceFactory[ActionsService]:
        """A mock ``core.actions`` factory over ``registry``."""
        return MockActionsService(registry).factory()

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.actions`` (``list``, ``invoke``)."""
        return build_service_mock(actions_service_ref, ActionsService, implementations)


#: ``mock_services.actions_registry()``.
mock_actions_registry = _MockActionsRegistryHelper()
#: ``mock_services.actions()``.
mock_actions = _MockActionsHelper()
