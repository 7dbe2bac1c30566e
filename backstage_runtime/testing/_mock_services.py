"""``mock_services``: test doubles and test-friendly factories for core services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..api import ServiceFactory, core_services, create_service_factory
from ..api.services.config import RootConfigService
from ..api.services.logger import RootLoggerService
from ..defaults.root_config import RootConfig, create_config_from_data
from ._actions import mock_actions, mock_actions_registry
from ._auditor import mock_auditor
from ._caches import mock_cache
from ._events import mock_events
from ._mock_auth import mock_auth, mock_http_auth, mock_permissions, mock_user_info
from ._mock_core import (
    logger_double,
    mock_discovery,
    mock_http_router,
    mock_lifecycle,
    mock_logger,
    mock_permissions_registry,
    mock_root_health,
    mock_root_http_router,
    mock_root_instance_metadata,
    mock_root_lifecycle,
    mock_root_system_metadata,
)
from ._mock_database import mock_database
from ._mock_logger import MockRootLogger
from ._scheduler import mock_scheduler
from ._service_mock import ServiceMock, build_service_mock
from ._url_reader import mock_url_reader

__all__ = ["MockRootConfig", "mock_services"]


class MockRootConfig(RootConfig):
    """``mock_services.root_config(data)``: an in-memory config a test can change.

    Errors name the source ``mock-config``, as Backstage's mock config does.
    """

    def update(self, data: Mapping[str, Any]) -> None:
        """Replace the whole config by ``data`` and call every subscriber (Backstage's
        ``update({ data })``), to test how code reacts to a config reload.
        """
        self.set_sources(create_config_from_data(dict(data), context=_CONTEXT).sources)


_CONTEXT = "mock-config"


class _MockRootConfig:
    """``mock_services.root_config``: an in-memory config."""

    def __call__(self, data: Mapping[str, Any] | None = None) -> MockRootConfig:
        """A config reader over ``data`` with :meth:`MockRootConfig.update`."""
        return MockRootConfig(create_config_from_data(dict(data or {}), context=_CONTEXT).sources)

    def factory(
        self, data: Mapping[str, Any] | None = None, *, config: MockRootConfig | None = None
    ) -> ServiceFactory[Any]:
        """A ``core.rootConfig`` factory serving ``data``; pass ``config`` instead to serve a
        config the test keeps, to :meth:`~MockRootConfig.update` it while the backend runs.
        """
        if config is not None and data is not None:
            raise ValueError("mock_services.root_config.factory takes data or config, not both")
        if config is None:
            config = self(data)
        return create_service_factory(service=core_services.root_config, factory=lambda: config)

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.rootConfig``: every getter records its calls and returns None
        unless given an implementation (``get_string=lambda key: "x"``).
        """
        return build_service_mock(core_services.root_config, RootConfigService, implementations)


class _MockRootLogger:
    """``mock_services.root_logger``: a logger that records entries instead of printing."""

    def __call__(self, *, level: str = "debug") -> MockRootLogger:
        """A recording logger; ``logger.entries`` holds every entry at or above ``level``."""
        return MockRootLogger(level=level)

    def factory(
        self, *, level: str = "debug", logger: MockRootLogger | None = None
    ) -> ServiceFactory[Any]:
        """A ``core.rootLogger`` factory; pass ``logger`` to inspect what the backend logged."""
        instance = logger if logger is not None else MockRootLogger(level=level)
        return create_service_factory(service=core_services.root_logger, factory=lambda: instance)

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.rootLogger``; ``child()`` returns a logger double.

        Backstage's root logger mock returns ``undefined`` from ``child``; ours returns a double
        because the backend itself logs through ``root_logger.child(...)``.
        """
        return logger_double(core_services.root_logger, RootLoggerService, implementations)


class _MockServices:
    """Mocks of core services, mirroring Backstage's ``mockServices``.

    Every member has ``.factory(...)`` (a service factory to pass as a feature) and
    ``.mock(**implementations)`` (a ``unittest.mock`` double spec'd to the service, see
    :data:`ServiceMock`); most are also callable for a working fake instance.
    """

    __slots__ = ()

    #: ``mock_services.root_config(data)``: in-memory config; ``.update(data)`` reloads it.
    root_config = _MockRootConfig()
    #: ``mock_services.root_logger()``: records entries in ``.entries``.
    root_logger = _MockRootLogger()
    #: ``mock_services.logger("plugin")``: a recording plugin logger.
    logger = mock_logger
    #: ``mock_services.discovery()``: every URL at ``http://localhost:0``.
    discovery = mock_discovery
    #: ``mock_services.lifecycle("plugin")``: a real plugin lifecycle to run hooks by hand.
    lifecycle = mock_lifecycle
    #: ``mock_services.root_lifecycle()``: a real root lifecycle to run hooks by hand.
    root_lifecycle = mock_root_lifecycle
    #: ``mock_services.http_router.factory()`` / ``.mock()``.
    http_router = mock_http_router
    #: ``mock_services.root_http_router.factory()`` / ``.mock()``.
    root_http_router = mock_root_http_router
    #: ``mock_services.root_health.factory()`` / ``.mock()``.
    root_health = mock_root_health
    #: ``mock_services.permissions_registry("plugin")``: a registry not mounted anywhere.
    permissions_registry = mock_permissions_registry
    #: ``mock_services.root_instance_metadata(plugins)``: no plugins unless given.
    root_instance_metadata = mock_root_instance_metadata
    #: ``mock_services.root_system_metadata(plugins)``: no plugins unless given.
    root_system_metadata = mock_root_system_metadata
    #: ``mock_services.database("plugin")``: a private in-memory SQLite database service.
    database = mock_database
    #: ``mock_services.cache("plugin")``: an in-memory cache service.
    cache = mock_cache
    #: ``mock_services.url_reader(files)``: a URL reader serving a dict of files or a directory.
    url_reader = mock_url_reader
    #: ``mock_services.auditor()``: an auditor recording events in ``.events``.
    auditor = mock_auditor
    #: ``mock_services.auth("plugin")``: accepts the tokens of ``mock_credentials``.
    auth = mock_auth
    #: ``mock_services.http_auth("plugin", default_credentials=...)``: no ``Authorization``
    #: header is ``default_credentials`` (the mock user unless given).
    http_auth = mock_http_auth
    #: ``mock_services.user_info(ownership=[...])``.
    user_info = mock_user_info
    #: ``mock_services.permissions("ALLOW" | "DENY")``.
    permissions = mock_permissions
    #: ``mock_services.scheduler()``: runs each task once at startup, then only when triggered.
    scheduler = mock_scheduler
    #: ``mock_services.events()``: an in-memory bus recording ``.published``; ``.factory()``.
    events = mock_events
    #: ``mock_services.actions_registry()``: registers and invokes actions in process.
    actions_registry = mock_actions_registry
    #: ``mock_services.actions(registry)``: lists and invokes a mock registry's actions.
    actions = mock_actions


#: Mock core services: ``mock_services.root_config(data)``, ``mock_services.discovery.mock()``...
mock_services = _MockServices()
