"""The default ``core.permissionsRegistry`` factory builder."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...api import (
    HttpRouterService,
    LifecycleService,
    PluginMetadataService,
    ServiceFactory,
    core_services,
    create_service_factory,
)
from ...api.services.auth import HttpAuthService

if TYPE_CHECKING:
    from ...api.services.permissions import PermissionsRegistryService
    from ...permissions._registry import PermissionIntegrationRouter as PermissionsRegistry

__all__ = ["permissions_registry_service_factory"]


def permissions_registry_service_factory() -> ServiceFactory[PermissionsRegistryService]:
    """The default ``core.permissionsRegistry`` factory; building it mounts the endpoints."""

    def factory(
        *,
        plugin_metadata: PluginMetadataService,
        http: HttpRouterService,
        http_auth: HttpAuthService,
        lifecycle: LifecycleService,
    ) -> PermissionsRegistry:
        # The permissions toolkit (conditions, criteria, rule schemas) loads with the first
        # plugin that registers permissions.
        from ...permissions._registry import PermissionIntegrationRouter as PermissionsRegistry

        registry = PermissionsRegistry(plugin_metadata.get_id(), http_auth)
        http.use(registry.routes())
        lifecycle.add_startup_hook(registry.mark_started)
        return registry

    return create_service_factory(
        service=core_services.permissions_registry,
        deps={
            "plugin_metadata": core_services.plugin_metadata,
            "http": core_services.http_router,
            "http_auth": core_services.http_auth,
            "lifecycle": core_services.lifecycle,
        },
        factory=factory,
    )
