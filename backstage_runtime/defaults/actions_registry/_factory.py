"""The default ``core.actionsRegistry`` factory builders (and the alpha id's delegating one)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...api import (
    HttpRouterService,
    LoggerService,
    PluginMetadataService,
    ServiceFactory,
    core_services,
    create_service_factory,
)
from ...api._actions_refs import actions_registry_service_ref, alpha_actions_registry_service_ref
from ...api.services.auth import HttpAuthService

if TYPE_CHECKING:
    from ...api.services.actions import ActionsRegistryService
    from ...api.services.permissions import PermissionsService
    from ._registry import ActionsRegistry

__all__ = ["actions_registry_service_factory", "alpha_actions_registry_service_factory"]


def actions_registry_service_factory() -> ServiceFactory[ActionsRegistryService]:
    """The default ``core.actionsRegistry`` factory. It is built only for a plugin that asks for
    the registry, and building it mounts the actions routes on that plugin's router (as Node).
    """

    def factory(
        *,
        plugin_metadata: PluginMetadataService,
        http: HttpRouterService,
        http_auth: HttpAuthService,
        logger: LoggerService,
        permissions: PermissionsService,
    ) -> ActionsRegistry:
        from ._registry import ActionsRegistry

        registry = ActionsRegistry(
            plugin_metadata.get_id(), logger=logger, http_auth=http_auth, permissions=permissions
        )
        http.use(registry.routes())
        return registry

    return create_service_factory(
        service=actions_registry_service_ref,
        deps={
            "plugin_metadata": core_services.plugin_metadata,
            "http": core_services.http_router,
            "http_auth": core_services.http_auth,
            "logger": core_services.logger,
            "permissions": core_services.permissions,
        },
        factory=factory,
    )


def alpha_actions_registry_service_factory() -> ServiceFactory[ActionsRegistryService]:
    """``alpha.core.actionsRegistry`` (Backstage's alpha id): the plugin's ``core.actionsRegistry``
    itself, so both ids share one registry and one set of routes.
    """

    def factory(*, registry: ActionsRegistryService) -> ActionsRegistryService:
        return registry

    return create_service_factory(
        service=alpha_actions_registry_service_ref,
        deps={"registry": actions_registry_service_ref},
        factory=factory,
    )
