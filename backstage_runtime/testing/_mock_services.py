"""``mock_services``: test doubles and test-friendly factories for core services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..api import ServiceFactory, core_services, create_service_factory
from ..defaults.root_config import create_config_from_data
from ._actions import mock_actions, mock_actions_registry
from ._auditor import mock_auditor
from ._caches import mock_cache
from ._databases import mock_database
from ._events import mock_events
from ._mock_auth import mock_auth, mock_http_auth, mock_permissions, mock_user_info
from ._mock_logger import MockRootLogger
from ._scheduler import mock_scheduler
from ._url_reader import mock_url_reader

__all__ = ["mock_services"]


class _MockRootConfig:
    """``mock_services.root_config``: an in-memory config."""

    def __call__(self, data: Mapping[str, Any] | None = None) -> Any:
        """A config reader over ``data``; errors name the source ``mock-config``."""
        return create_config_from_data(dict(data or {}), context="mock-config")

    def factory(self, data: Mapping[str, Any] | None = None) -> ServiceFactory[Any]:
        """A ``core.rootConfig`` factory serving ``data``."""
        config = self(data)
        return create_service_factory(service=core_services.root_config, factory=lambda: config)


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


class _MockServices:
    """Mocks of core services, mirroring Backstage's ``mockServices``.

    Each member is callable for an instance and has ``.factory(...)`` for a service factory to
    pass as a feature. More services arrive as they are implemented.
    """

    __slots__ = ()

    root_config = _MockRootConfig()
    root_logger = _MockRootLogger()
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
    #: ``mock_services.http_auth("plugin")``: no ``Authorization`` header is the mock user.
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


#: Mock core services: ``mock_services.root_config(data)``, ``mock_services.root_logger()``, ...
mock_services = _MockServices()
