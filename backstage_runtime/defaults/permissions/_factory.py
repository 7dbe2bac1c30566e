"""The default ``core.permissions`` factory builder."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...api import (
    Config,
    Deferred,
    DiscoveryService,
    ServiceFactory,
    core_services,
    create_service_factory,
    runtime_services,
)
from ...api.services.auth import AuthService

if TYPE_CHECKING:
    import aiohttp

    from ...api.services.permissions import PermissionsService
    from ._permissions import DefaultPermissionsService

__all__ = ["permissions_service_factory"]


def permissions_service_factory() -> ServiceFactory[PermissionsService]:
    """The default ``core.permissions`` factory (``permission.enabled`` and
    ``permission.EXPERIMENTAL_enableBatchedRequests``, both default false).
    """

    def factory(
        *,
        config: Config,
        auth: AuthService,
        discovery: DiscoveryService,
        http_client: Deferred[aiohttp.ClientSession],
    ) -> DefaultPermissionsService:
        from ._permissions import DefaultPermissionsService

        return DefaultPermissionsService(
            enabled=bool(config.get_optional_boolean("permission.enabled")),
            batched=bool(
                config.get_optional_boolean("permission.EXPERIMENTAL_enableBatchedRequests")
            ),
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
        # Only a request to the permission backend needs the session (and aiohttp).
        deferred=("http_client",),
    )
