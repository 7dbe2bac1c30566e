"""The default ``core.actions`` factory builders (and the alpha id's delegating one)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...api import (
    Config,
    DiscoveryService,
    LoggerService,
    ServiceFactory,
    core_services,
    create_service_factory,
    runtime_services,
)
from ...api._actions_refs import actions_service_ref, alpha_actions_service_ref
from ...api.services.auth import AuthService

if TYPE_CHECKING:
    import aiohttp

    from ...api.services.actions import ActionsService
    from ...api.services.permissions import PermissionsService
    from ._service import DefaultActionsService

__all__ = ["actions_service_factory", "alpha_actions_service_factory"]


def actions_service_factory() -> ServiceFactory[ActionsService]:
    """The default ``core.actions`` factory (``backend.actions.pluginSources`` and
    ``backend.actions.filter``, read on every call so a config reload applies at once).
    """

    def factory(
        *,
        config: Config,
        logger: LoggerService,
        auth: AuthService,
        discovery: DiscoveryService,
        http_client: aiohttp.ClientSession,
        permissions: PermissionsService,
    ) -> DefaultActionsService:
        from ._service import DefaultActionsService

        return DefaultActionsService(
            config=config,
            logger=logger,
            auth=auth,
            discovery=discovery,
            session=http_client,
            permissions=permissions,
        )

    return create_service_factory(
        service=actions_service_ref,
        deps={
            "config": core_services.root_config,
            "logger": core_services.logger,
            "auth": core_services.auth,
            "discovery": core_services.discovery,
            "http_client": runtime_services.http_client,
            "permissions": core_services.permissions,
        },
        factory=factory,
    )


def alpha_actions_service_factory() -> ServiceFactory[ActionsService]:
    """``alpha.core.actions`` (Backstage's alpha id): the plugin's ``core.actions`` itself."""

    def factory(*, actions: ActionsService) -> ActionsService:
        return actions

    return create_service_factory(
        service=alpha_actions_service_ref,
        deps={"actions": actions_service_ref},
        factory=factory,
    )
