"""The default ``core.httpAuth`` factory builder."""

from __future__ import annotations

from typing import Any

from ...api import (
    DiscoveryService,
    PluginMetadataService,
    ServiceFactory,
    core_services,
    create_service_factory,
)
from ...api.services.auth import AuthService, HttpAuthService
from ._http_auth import DefaultHttpAuthService

__all__ = ["http_auth_service_factory"]


def http_auth_service_factory() -> ServiceFactory[HttpAuthService]:
    """The default ``core.httpAuth`` factory."""

    def factory(
        *, auth: AuthService, plugin_metadata: PluginMetadataService, discovery: DiscoveryService
    ) -> Any:
        return DefaultHttpAuthService(auth, plugin_metadata.get_id(), discovery)

    return create_service_factory(
        service=core_services.http_auth,
        deps={
            "auth": core_services.auth,
            "plugin_metadata": core_services.plugin_metadata,
            "discovery": core_services.discovery,
        },
        factory=factory,
    )
