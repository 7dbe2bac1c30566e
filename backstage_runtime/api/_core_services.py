"""``core_services``: a ref for every core service of Backstage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from ._actions_refs import actions_registry_service_ref, actions_service_ref
from ._refs import ServiceRef, create_service_ref
from .services.auditor import AuditorService
from .services.auth import AuthService, HttpAuthService, UserInfoService
from .services.cache import CacheService
from .services.config import RootConfigService
from .services.database import DatabaseService
from .services.discovery import DiscoveryService
from .services.http import HttpRouterService, RootHealthService, RootHttpRouterService
from .services.lifecycle import LifecycleService, RootLifecycleService
from .services.logger import LoggerService, RootLoggerService
from .services.metadata import (
    PluginMetadataService,
    RootInstanceMetadataService,
    RootSystemMetadataService,
)

if TYPE_CHECKING:
    # Loaded on first use (see backstage_runtime.api): the refs only name them.
    from .services.actions import ActionsRegistryService, ActionsService
    from .services.identity import IdentityService
    from .services.permissions import PermissionsRegistryService, PermissionsService
    from .services.scheduler import SchedulerService
    from .services.url_reader import UrlReaderService

__all__ = ["core_services"]


class _CoreServices:
    """The refs of Backstage's core services, with Backstage's ids (``core.<camelCaseName>``).

    Root-scoped: ``root_config``, ``root_logger``, ``root_lifecycle``, ``root_http_router``,
    ``root_health``, ``root_instance_metadata``, ``root_system_metadata``. Every other ref is
    plugin-scoped.
    """

    __slots__ = ()

    root_config: Final[ServiceRef[RootConfigService]] = create_service_ref(
        id="core.rootConfig", scope="root"
    )
    root_logger: Final[ServiceRef[RootLoggerService]] = create_service_ref(
        id="core.rootLogger", scope="root"
    )
    logger: Final[ServiceRef[LoggerService]] = create_service_ref(id="core.logger")
    root_lifecycle: Final[ServiceRef[RootLifecycleService]] = create_service_ref(
        id="core.rootLifecycle", scope="root"
    )
    lifecycle: Final[ServiceRef[LifecycleService]] = create_service_ref(id="core.lifecycle")
    root_http_router: Final[ServiceRef[RootHttpRouterService]] = create_service_ref(
        id="core.rootHttpRouter", scope="root"
    )
    http_router: Final[ServiceRef[HttpRouterService]] = create_service_ref(id="core.httpRouter")
    root_health: Final[ServiceRef[RootHealthService]] = create_service_ref(
        id="core.rootHealth", scope="root"
    )
    http_auth: Final[ServiceRef[HttpAuthService]] = create_service_ref(id="core.httpAuth")
    auth: Final[ServiceRef[AuthService]] = create_service_ref(id="core.auth")
    user_info: Final[ServiceRef[UserInfoService]] = create_service_ref(id="core.userInfo")
    permissions: Final[ServiceRef[PermissionsService]] = create_service_ref(id="core.permissions")
    permissions_registry: Final[ServiceRef[PermissionsRegistryService]] = create_service_ref(
        id="core.permissionsRegistry"
    )
    discovery: Final[ServiceRef[DiscoveryService]] = create_service_ref(id="core.discovery")
    cache: Final[ServiceRef[CacheService]] = create_service_ref(id="core.cache")
    database: Final[ServiceRef[DatabaseService]] = create_service_ref(id="core.database")
    scheduler: Final[ServiceRef[SchedulerService]] = create_service_ref(id="core.scheduler")
    url_reader: Final[ServiceRef[UrlReaderService]] = create_service_ref(id="core.urlReader")
    auditor: Final[ServiceRef[AuditorService]] = create_service_ref(id="core.auditor")
    #: Legacy: not installed by default; add ``identity_service_factory()`` to use it.
    identity: Final[ServiceRef[IdentityService]] = create_service_ref(id="core.identity")
    plugin_metadata: Final[ServiceRef[PluginMetadataService]] = create_service_ref(
        id="core.pluginMetadata"
    )
    root_instance_metadata: Final[ServiceRef[RootInstanceMetadataService]] = create_service_ref(
        id="core.rootInstanceMetadata", scope="root"
    )
    #: Backstage's ``coreServices.rootSystemMetadata`` (alpha; ``alpha.core.rootSystemMetadata``
    #: names the same service).
    root_system_metadata: Final[ServiceRef[RootSystemMetadataService]] = create_service_ref(
        id="core.rootSystemMetadata", scope="root"
    )
    #: Backstage's ``coreServices.actionsRegistry`` (also ``actions_registry_service_ref``).
    actions_registry: Final[ServiceRef[ActionsRegistryService]] = actions_registry_service_ref
    #: Backstage's ``coreServices.actions`` (the same ref as ``actions_service_ref``).
    actions: Final[ServiceRef[ActionsService]] = actions_service_ref

    def all(self) -> tuple[ServiceRef[Any], ...]:
        """Every core ref, in the order above."""
        return tuple(
            value for value in type(self).__dict__.values() if isinstance(value, ServiceRef)
        )


#: The core service refs: ``core_services.logger``, ``core_services.root_config`` and so on.
core_services: Final = _CoreServices()
