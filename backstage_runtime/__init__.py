"""backstage-runtime: the Backstage backend system in Python.

Plugin authors import everything from here: features, refs, factories, service interfaces and
their value types, and errors (the same names as :mod:`backstage_runtime.api`). Applications that
host plugins use :func:`create_backend`. Test utilities live in :mod:`backstage_runtime.testing`.

Importing this package is cheap: the plugin API is plain Python, and the implementation (the
runtime and the default services, with Quart, Hypercorn, SQLAlchemy, aiohttp behind them) loads
only when one of its names is first used (PEP 562), as anyio loads its backends.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._public import publish, publish_all
from .api import (
    AccessRestrictions,
    ArchiveLimitError,
    AuditorEvent,
    AuditorService,
    AuditorSeverity,
    AuthenticationError,
    AuthPolicyAllow,
    AuthService,
    BackendFeature,
    BackendFeatureLoader,
    BackendModule,
    BackendPlugin,
    BackendStartupError,
    BackendValidationError,
    BackgroundTasksService,
    BackstageCredentials,
    BackstageError,
    BackstageIdentityResponse,
    BackstageNonePrincipal,
    BackstagePrincipal,
    BackstageServicePrincipal,
    BackstageUserIdentity,
    BackstageUserInfo,
    BackstageUserPrincipal,
    CacheService,
    CacheTtl,
    ConditionTransformer,
    Config,
    ConfigError,
    ConfigSubscription,
    ConflictError,
    DatabaseMigrations,
    DatabaseService,
    DiscoveryService,
    ExtensionPoint,
    ExtensionPointClosedError,
    ForwardedError,
    GetResources,
    HealthCheckResult,
    HttpAuthService,
    HttpRouterService,
    IdentityService,
    InputError,
    InstalledModule,
    InstalledPlugin,
    JsonObject,
    JsonPrimitive,
    JsonValue,
    LifecycleHook,
    LifecycleService,
    LimitedUserToken,
    LoggerService,
    LogMeta,
    ModuleRegistrationPoints,
    NotAllowedError,
    NotFoundError,
    NotImplementedYetError,
    NotModifiedError,
    PermissionRule,
    PermissionsRegistryService,
    PermissionsService,
    PluginMetadataService,
    PluginRegistrationPoints,
    PluginRequestToken,
    PrincipalType,
    ReaderFactory,
    ReadTreeResponse,
    ReadTreeResponseFactory,
    ReadTreeResponseFile,
    ReadUrlResponse,
    RegistrationError,
    ResponseError,
    RootConfigService,
    RootHealthService,
    RootHttpRouterService,
    RootInstanceMetadataService,
    RootLifecycleService,
    RootLoggerService,
    SchedulerService,
    SchedulerServiceTaskDescriptor,
    SchedulerServiceTaskFunction,
    SchedulerServiceTaskRunner,
    SchedulerServiceTaskScheduleDefinition,
    SearchResponse,
    SearchResponseFile,
    ServiceFactory,
    ServiceInitialization,
    ServiceInstantiationError,
    ServiceRef,
    ServiceScope,
    ServiceUnavailableError,
    TaskAbortSignal,
    TaskDuration,
    TaskFrequency,
    TaskScope,
    TreeEntryInfo,
    TreeFileSource,
    TreeFilter,
    UnsafeArchiveError,
    UrlPredicate,
    UrlReaderError,
    UrlReaderPredicateTuple,
    UrlReaderService,
    UserInfoService,
    core_services,
    create_backend_feature_loader,
    create_backend_module,
    create_backend_plugin,
    create_condition_transformer,
    create_extension_point,
    create_permission_rule,
    create_service_factory,
    create_service_ref,
    is_database_conflict_error,
    parse_duration,
    read_duration_from_config,
    read_scheduler_service_task_schedule_definition_from_config,
    runtime_services,
    stringify_error,
    url_reader_factories,
)

if TYPE_CHECKING:
    from ._create_backend import create_backend, default_service_factories
    from .runtime import Backend, StartupResult, create_specialized_backend

    __version__: str

#: Names of the implementation, and the module (relative to this package) that defines each one.
_LAZY: dict[str, str] = {
    "Backend": ".runtime",
    "StartupResult": ".runtime",
    "create_backend": "._create_backend",
    "create_specialized_backend": ".runtime",
    "default_service_factories": "._create_backend",
}

__all__ = [
    "AccessRestrictions",
    "ArchiveLimitError",
    "AuditorEvent",
    "AuditorService",
    "AuditorSeverity",
    "AuthPolicyAllow",
    "AuthService",
    "AuthenticationError",
    "Backend",
    "BackendFeature",
    "BackendFeatureLoader",
    "BackendModule",
    "BackendPlugin",
    "BackendStartupError",
    "BackendValidationError",
    "BackgroundTasksService",
    "BackstageCredentials",
    "BackstageError",
    "BackstageIdentityResponse",
    "BackstageNonePrincipal",
    "BackstagePrincipal",
    "BackstageServicePrincipal",
    "BackstageUserIdentity",
    "BackstageUserInfo",
    "BackstageUserPrincipal",
    "CacheService",
    "CacheTtl",
    "ConditionTransformer",
    "Config",
    "ConfigError",
    "ConfigSubscription",
    "ConflictError",
    "DatabaseMigrations",
    "DatabaseService",
    "DiscoveryService",
    "ExtensionPoint",
    "ExtensionPointClosedError",
    "ForwardedError",
    "GetResources",
    "HealthCheckResult",
    "HttpAuthService",
    "HttpRouterService",
    "IdentityService",
    "InputError",
    "InstalledModule",
    "InstalledPlugin",
    "JsonObject",
    "JsonPrimitive",
    "JsonValue",
    "LifecycleHook",
    "LifecycleService",
    "LimitedUserToken",
    "LogMeta",
    "LoggerService",
    "ModuleRegistrationPoints",
    "NotAllowedError",
    "NotFoundError",
    "NotImplementedYetError",
    "NotModifiedError",
    "PermissionRule",
    "PermissionsRegistryService",
    "PermissionsService",
    "PluginMetadataService",
    "PluginRegistrationPoints",
    "PluginRequestToken",
    "PrincipalType",
    "ReadTreeResponse",
    "ReadTreeResponseFactory",
    "ReadTreeResponseFile",
    "ReadUrlResponse",
    "ReaderFactory",
    "RegistrationError",
    "ResponseError",
    "RootConfigService",
    "RootHealthService",
    "RootHttpRouterService",
    "RootInstanceMetadataService",
    "RootLifecycleService",
    "RootLoggerService",
    "SchedulerService",
    "SchedulerServiceTaskDescriptor",
    "SchedulerServiceTaskFunction",
    "SchedulerServiceTaskRunner",
    "SchedulerServiceTaskScheduleDefinition",
    "SearchResponse",
    "SearchResponseFile",
    "ServiceFactory",
    "ServiceInitialization",
    "ServiceInstantiationError",
    "ServiceRef",
    "ServiceScope",
    "ServiceUnavailableError",
    "StartupResult",
    "TaskAbortSignal",
    "TaskDuration",
    "TaskFrequency",
    "TaskScope",
    "TreeEntryInfo",
    "TreeFileSource",
    "TreeFilter",
    "UnsafeArchiveError",
    "UrlPredicate",
    "UrlReaderError",
    "UrlReaderPredicateTuple",
    "UrlReaderService",
    "UserInfoService",
    "__version__",
    "core_services",
    "create_backend",
    "create_backend_feature_loader",
    "create_backend_module",
    "create_backend_plugin",
    "create_condition_transformer",
    "create_extension_point",
    "create_permission_rule",
    "create_service_factory",
    "create_service_ref",
    "create_specialized_backend",
    "default_service_factories",
    "is_database_conflict_error",
    "parse_duration",
    "read_duration_from_config",
    "read_scheduler_service_task_schedule_definition_from_config",
    "runtime_services",
    "stringify_error",
    "url_reader_factories",
]

publish_all(globals(), __all__, __name__)


# Hidden from type checkers: they would take a module-level __getattr__ to mean "any name
# exists" and stop reporting typos such as ``from backstage_runtime import creat_backend``; the
# lazy names are declared to them under TYPE_CHECKING above instead.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        """Load an implementation name on first use (PEP 562), then keep it as a plain attribute."""
        module_name = _LAZY.get(name)
        if name == "__version__":
            value: Any = _installed_version()
        elif module_name is not None:
            value = getattr(importlib.import_module(module_name, __name__), name)
            publish(value, __name__)
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    """Every public name, loaded or not, so completion and ``help()`` show the lazy ones too."""
    return sorted({*globals(), *__all__})


def _installed_version() -> str:
    # Read lazily: importlib.metadata (email, zipfile, csv, ...) costs about as much to import as
    # the whole plugin API, and most processes never ask for the version.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("backstage-runtime")
    except PackageNotFoundError:
        # Running from a source tree that was never installed: no metadata to read.
        return "0.0.0+unknown"
