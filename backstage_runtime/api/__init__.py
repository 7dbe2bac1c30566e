"""What plugin authors import: refs, factories, features, service interfaces and errors.

Backstage's ``@backstage/backend-plugin-api`` in Python. Nothing here depends on the runtime.
"""

from ._core_services import core_services
from ._durations import parse_duration, read_duration_from_config
from ._factories import ServiceFactory, ServiceInitialization, create_service_factory
from ._features import (
    BackendFeature,
    BackendFeatureLoader,
    BackendModule,
    BackendPlugin,
    ModuleRegistrationPoints,
    PluginRegistrationPoints,
    RegistrationError,
    create_backend_feature_loader,
    create_backend_module,
    create_backend_plugin,
)
from ._refs import (
    ExtensionPoint,
    MultitonServiceRef,
    ServiceRef,
    ServiceScope,
    create_extension_point,
    create_service_ref,
)
from ._runtime_services import BackgroundTasksService, runtime_services
from .services.cache import CacheService, CacheTtl
from .services.config import Config, RootConfigService
from .services.database import DatabaseMigrations, DatabaseService, is_database_conflict_error
from .services.discovery import DiscoveryService
from .services.http import (
    AuthPolicyAllow,
    HealthCheckResult,
    HttpRouterService,
    RootHealthService,
    RootHttpRouterService,
)
from .services.lifecycle import (
    LifecycleHook,
    LifecycleService,
    PluginLifecycleDriver,
    RootLifecycleDriver,
    RootLifecycleService,
)
from .services.logger import LoggerService, RootLoggerService
from .services.metadata import (
    InstalledModule,
    InstalledPlugin,
    PluginMetadataService,
    RootInstanceMetadataService,
)
from .services.permissions import (
    PermissionRule,
    create_condition_transformer,
    create_permission_rule,
)
from .services.scheduler import (
    SchedulerService,
    SchedulerServiceTaskDescriptor,
    SchedulerServiceTaskFunction,
    SchedulerServiceTaskRunner,
    SchedulerServiceTaskScheduleDefinition,
    TaskAbortSignal,
    TaskFrequency,
    TaskScope,
    read_scheduler_service_task_schedule_definition_from_config,
)
from .services.url_reader import (
    ReadTreeResponse,
    ReadUrlResponse,
    SearchResponse,
    TreeFilter,
    UrlReaderService,
    url_reader_factories,
)

__all__ = [
    "AuthPolicyAllow",
    "BackgroundTasksService",
    "BackendFeature",
    "BackendFeatureLoader",
    "BackendModule",
    "BackendPlugin",
    "CacheService",
    "CacheTtl",
    "Config",
    "DatabaseMigrations",
    "DatabaseService",
    "DiscoveryService",
    "ExtensionPoint",
    "HealthCheckResult",
    "HttpRouterService",
    "InstalledModule",
    "InstalledPlugin",
    "LifecycleHook",
    "LifecycleService",
    "LoggerService",
    "ModuleRegistrationPoints",
    "PermissionRule",
    "ReadTreeResponse",
    "ReadUrlResponse",
    "PluginLifecycleDriver",
    "PluginMetadataService",
    "PluginRegistrationPoints",
    "RegistrationError",
    "RootConfigService",
    "RootHealthService",
    "RootHttpRouterService",
    "RootInstanceMetadataService",
    "RootLifecycleDriver",
    "RootLifecycleService",
    "RootLoggerService",
    "ServiceFactory",
    "ServiceInitialization",
    "MultitonServiceRef",
    "ServiceRef",
    "SchedulerService",
    "SchedulerServiceTaskDescriptor",
    "SchedulerServiceTaskFunction",
    "SchedulerServiceTaskRunner",
    "SchedulerServiceTaskScheduleDefinition",
    "SearchResponse",
    "ServiceScope",
    "TaskAbortSignal",
    "TaskFrequency",
    "TaskScope",
    "TreeFilter",
    "UrlReaderService",
    "core_services",
    "parse_duration",
    "read_duration_from_config",
    "read_scheduler_service_task_schedule_definition_from_config",
    "runtime_services",
    "url_reader_factories",
    "create_backend_feature_loader",
    "create_backend_module",
    "create_backend_plugin",
    "create_extension_point",
    "create_condition_transformer",
    "create_permission_rule",
    "create_service_factory",
    "create_service_ref",
    "is_database_conflict_error",
]
