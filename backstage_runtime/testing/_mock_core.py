"""``mock_services`` members for the core services that need no recording fake of their own.

Discovery, the plugin logger, both lifecycles, both HTTP routers, root health, the permissions
registry and root instance metadata: each has ``.factory()`` (the implementation a test backend
uses, as Backstage's ``mockServices.<service>.factory()`` gives the default one) and ``.mock()``
(a spec'd ``unittest.mock`` double); the ones Backstage (or a test) can use standalone are also
callable for an instance.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..api import (
    LoggerService,
    PluginLifecycleDriver,
    RootLifecycleDriver,
    ServiceFactory,
    core_services,
    create_service_factory,
)
from ..api.services.discovery import DiscoveryService
from ..api.services.http import HttpRouterService, RootHealthService, RootHttpRouterService
from ..api.services.lifecycle import (
    DEFAULT_SHUTDOWN_HOOK_TIMEOUT_SECONDS,
    LifecycleService,
    RootLifecycleService,
)
from ..api.services.metadata import (
    InstalledPlugin,
    RootInstanceMetadataService,
    RootSystemMetadataService,
    SystemPluginInfo,
)
from ..api.services.permissions import PermissionsRegistryService
from ..defaults.discovery import HostDiscovery
from ..defaults.http_router import http_router_service_factory
from ..defaults.lifecycle import (
    PluginLifecycle,
    RootLifecycle,
    lifecycle_service_factory,
    root_lifecycle_service_factory,
)
from ..defaults.logger import logger_service_factory
from ..defaults.permissions_registry import (
    PermissionsRegistry,
    permissions_registry_service_factory,
)
from ..defaults.root_config import create_config_from_data
from ..defaults.root_health import root_health_service_factory
from ..defaults.root_http_router import ListenOptions, root_http_router_service_factory
from ._mock_auth import mock_http_auth
from ._mock_logger import MockRootLogger
from ._service_mock import ServiceMock, build_service_mock

__all__ = [
    "MockRootInstanceMetadata",
    "MockRootSystemMetadata",
    "logger_double",
    "mock_discovery",
    "mock_http_router",
    "mock_lifecycle",
    "mock_logger",
    "mock_permissions_registry",
    "mock_root_health",
    "mock_root_http_router",
    "mock_root_system_metadata",
    "mock_root_instance_metadata",
    "mock_root_lifecycle",
]


class _MockDiscovery:
    """``mock_services.discovery``."""

    def __call__(self) -> HostDiscovery:
        """A discovery whose URLs all point at ``http://localhost:0``, as Backstage's mock: no
        request through it reaches a server, so a test has to mock the HTTP it expects.
        """
        config = create_config_from_data(
            {"backend": {"baseUrl": "http://localhost:0", "listen": {"port": 0}}}
        )
        return HostDiscovery.from_config(config)

    def factory(self) -> ServiceFactory[DiscoveryService]:
        """A ``core.discovery`` factory serving :meth:`__call__`'s discovery to every plugin.

        A test backend does not need it: its default discovery points at its own server.
        """
        discovery = self()
        return create_service_factory(service=core_services.discovery, factory=lambda: discovery)

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.discovery`` (``get_base_url``, ``get_external_base_url``)."""
        return build_service_mock(core_services.discovery, DiscoveryService, implementations)


def logger_double(ref: Any, spec: type, implementations: dict[str, Any]) -> ServiceMock:
    """A logger double of ``ref`` whose ``child()`` gives another (plugin) logger double, as
    Backstage's logger mock does, so code that makes children logs into something callable.
    """

    def child(*_args: object, **_kwargs: object) -> ServiceMock:
        return logger_double(core_services.logger, LoggerService, {})

    return build_service_mock(ref, spec, implementations, defaults={"child": child})


class _MockLogger:
    """``mock_services.logger``: the plugin logger."""

    def __call__(self, plugin_id: str = "test", *, level: str = "debug") -> MockRootLogger:
        """A recording logger for ``plugin_id`` (entries carry ``plugin``), as a test backend's
        plugin logger is: ``logger.entries`` holds every entry at or above ``level``.
        """
        return MockRootLogger(level=level).child({"plugin": plugin_id})

    def factory(self) -> ServiceFactory[LoggerService]:
        """The default ``core.logger`` factory: a child of the root logger per plugin."""
        return logger_service_factory()

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.logger``; ``child()`` returns another such double."""
        return logger_double(core_services.logger, LoggerService, implementations)


class _LifecycleDouble(LifecycleService, PluginLifecycleDriver, Protocol):
    """The plugin lifecycle with the methods the runtime calls (``startup``, ``shutdown``)."""


class _RootLifecycleDouble(RootLifecycleService, RootLifecycleDriver, Protocol):
    """The root lifecycle with the methods the runtime calls."""


class _MockLifecycle:
    """``mock_services.lifecycle``."""

    def __call__(self, plugin_id: str = "test") -> PluginLifecycle:
        """A real plugin lifecycle for ``plugin_id``; ``await lifecycle.startup()`` and
        ``await lifecycle.shutdown()`` run the hooks a test's code added.
        """
        logger = MockRootLogger().child({"plugin": plugin_id})
        return PluginLifecycle(plugin_id, logger, DEFAULT_SHUTDOWN_HOOK_TIMEOUT_SECONDS)

    def factory(self) -> ServiceFactory[LifecycleService]:
        """The default ``core.lifecycle`` factory."""
        return lifecycle_service_factory()

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.lifecycle``: ``add_startup_hook`` and ``add_shutdown_hook`` record
        their hooks without running them; ``startup``/``shutdown`` (which the backend calls) are
        recorded too, so the double can serve a test backend. There no hook runs: the plugin's
        HTTP router, which opens at startup, answers 503 until ``startup`` is given an
        implementation that runs the recorded hooks.
        """
        return build_service_mock(core_services.lifecycle, _LifecycleDouble, implementations)


class _MockRootLifecycle:
    """``mock_services.root_lifecycle``."""

    def __call__(self) -> RootLifecycle:
        """A real root lifecycle; ``startup()``, ``before_shutdown()`` and ``shutdown()`` run
        the hooks added to it.
        """
        return RootLifecycle(
            MockRootLogger().child({"type": "rootLifecycle"}), DEFAULT_SHUTDOWN_HOOK_TIMEOUT_SECONDS
        )

    def factory(self) -> ServiceFactory[RootLifecycleService]:
        """The default ``core.rootLifecycle`` factory."""
        return root_lifecycle_service_factory()

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.rootLifecycle`` (hooks recorded, never run)."""
        return build_service_mock(
            core_services.root_lifecycle, _RootLifecycleDouble, implementations
        )


class _MockHttpRouter:
    """``mock_services.http_router``."""

    def factory(self) -> ServiceFactory[HttpRouterService]:
        """The default ``core.httpRouter`` factory (mounts each plugin at ``/api/<pluginId>``)."""
        return http_router_service_factory()

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.httpRouter``: ``use`` and ``add_auth_policy`` record their calls,
        so ``router.use.call_args.args[0]`` is the app a plugin mounted.
        """
        return build_service_mock(core_services.http_router, HttpRouterService, implementations)


class _MockRootHttpRouter:
    """``mock_services.root_http_router``."""

    def factory(self) -> ServiceFactory[RootHttpRouterService]:
        """The test backend's root router: the real server on a random loopback port (unless
        the config sets ``backend.listen``), without a log line per request.
        """
        return root_http_router_service_factory(
            log_requests=False, default_listen=ListenOptions("127.0.0.1", 0)
        )

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.rootHttpRouter``: ``use`` records its calls; nothing listens."""
        return build_service_mock(
            core_services.root_http_router, RootHttpRouterService, implementations
        )


class _MockRootHealth:
    """``mock_services.root_health``."""

    def factory(self) -> ServiceFactory[RootHealthService]:
        """The default ``core.rootHealth`` factory (ready once the root lifecycle started)."""
        return root_health_service_factory()

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.rootHealth`` (``get_liveness``, ``get_readiness``)."""
        return build_service_mock(core_services.root_health, RootHealthService, implementations)


class _MockPermissionsRegistry:
    """``mock_services.permissions_registry``."""

    def __call__(self, plugin_id: str = "test") -> PermissionsRegistry:
        """A real registry for ``plugin_id``, not mounted anywhere: a test can add permissions
        and rules and read them back (``registry.routes()`` is its ASGI app).
        """
        return PermissionsRegistry(plugin_id, mock_http_auth(plugin_id))

    def factory(self) -> ServiceFactory[PermissionsRegistryService]:
        """The default ``core.permissionsRegistry`` factory (mounts the permission endpoints)."""
        return permissions_registry_service_factory()

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.permissionsRegistry`` (each ``add_*`` records its call)."""
        return build_service_mock(
            core_services.permissions_registry, PermissionsRegistryService, implementations
        )


class MockRootInstanceMetadata:
    """``core.rootInstanceMetadata`` answering a fixed list of installed plugins."""

    def __init__(self, plugins: tuple[InstalledPlugin, ...] = ()) -> None:
        self._plugins = plugins

    async def get_installed_plugins(self) -> tuple[InstalledPlugin, ...]:
        """The plugins given at construction (none by default, as Backstage's mock)."""
        return self._plugins


class _MockRootInstanceMetadata:
    """``mock_services.root_instance_metadata``.

    A backend always provides this service itself (from what it installed) and refuses a
    replacement, so ``.factory()`` is for a ``ServiceFactoryTester``, whose default it is.
    """

    def __call__(self, plugins: tuple[InstalledPlugin, ...] = ()) -> MockRootInstanceMetadata:
        """Instance metadata listing ``plugins`` (none by default)."""
        return MockRootInstanceMetadata(plugins)

    def factory(
        self, plugins: tuple[InstalledPlugin, ...] = ()
    ) -> ServiceFactory[RootInstanceMetadataService]:
        """A factory of :meth:`__call__`'s service, for a ``ServiceFactoryTester`` (a backend
        rejects it: it provides this service itself).
        """
        instance = self(plugins)
        return create_service_factory(
            service=core_services.root_instance_metadata, factory=lambda: instance
        )

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.rootInstanceMetadata`` (``get_installed_plugins``)."""
        return build_service_mock(
            core_services.root_instance_metadata, RootInstanceMetadataService, implementations
        )


class MockRootSystemMetadata:
    """``core.rootSystemMetadata`` answering a fixed list of the deployment's plugins."""

    def __init__(self, plugins: tuple[SystemPluginInfo, ...] = ()) -> None:
        self._plugins = plugins

    async def get_installed_plugins(self) -> tuple[SystemPluginInfo, ...]:
        """The plugins given at construction (none by default, as Backstage's mock)."""
        return self._plugins


class _MockRootSystemMetadata:
    """``mock_services.root_system_metadata``: Backstage's ``mockServices.rootSystemMetadata``."""

    def __call__(self, plugins: tuple[SystemPluginInfo, ...] = ()) -> MockRootSystemMetadata:
        """System metadata listing ``plugins`` (none by default)."""
        return MockRootSystemMetadata(plugins)

    def factory(
        self, plugins: tuple[SystemPluginInfo, ...] = ()
    ) -> ServiceFactory[RootSystemMetadataService]:
        """A factory serving :meth:`__call__`'s service to a backend (or a tester)."""
        instance = self(plugins)
        return create_service_factory(
            service=core_services.root_system_metadata, factory=lambda: instance
        )

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.rootSystemMetadata`` (``get_installed_plugins``)."""
        return build_service_mock(
            core_services.root_system_metadata, RootSystemMetadataService, implementations
        )


mock_discovery = _MockDiscovery()
mock_logger = _MockLogger()
mock_lifecycle = _MockLifecycle()
mock_root_lifecycle = _MockRootLifecycle()
mock_http_router = _MockHttpRouter()
mock_root_http_router = _MockRootHttpRouter()
mock_root_health = _MockRootHealth()
mock_permissions_registry = _MockPermissionsRegistry()
mock_root_instance_metadata = _MockRootInstanceMetadata()
mock_root_system_metadata = _MockRootSystemMetadata()
