"""``create_backend``: a backend with every default core service (Backstage's ``createBackend``)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .api import ServiceFactory
from .defaults.actions import actions_service_factory, alpha_actions_service_factory
from .defaults.actions_registry import (
    actions_registry_service_factory,
    alpha_actions_registry_service_factory,
)
from .defaults.auditor import auditor_service_factory
from .defaults.auth import auth_service_factory
from .defaults.cache import cache_service_factory
from .defaults.database import database_service_factory
from .defaults.discovery import discovery_service_factory
from .defaults.events import events_service_factory
from .defaults.http_auth import http_auth_service_factory
from .defaults.http_client import http_client_service_factory
from .defaults.http_router import http_router_service_factory
from .defaults.instance_metadata import instance_metadata_service_factory
from .defaults.lifecycle import lifecycle_service_factory, root_lifecycle_service_factory
from .defaults.logger import logger_service_factory
from .defaults.metrics import metrics_service_factory, root_metrics_service_factory
from .defaults.permissions import permissions_service_factory
from .defaults.permissions_registry import permissions_registry_service_factory
from .defaults.root_config import root_config_service_factory
from .defaults.root_health import root_health_service_factory
from .defaults.root_http_router import root_http_router_service_factory
from .defaults.root_logger import root_logger_service_factory
from .defaults.root_system_metadata import (
    alpha_root_system_metadata_service_factory,
    root_system_metadata_service_factory,
)
from .defaults.scheduler import scheduler_service_factory
from .defaults.telemetry import telemetry_service_factory
from .defaults.tracing import tracing_service_factory
from .defaults.url_reader import url_reader_service_factory
from .defaults.user_info import user_info_service_factory
from .runtime import Backend, create_specialized_backend, discovery_feature_loader

__all__ = ["create_backend", "default_service_factories"]


def default_service_factories(
    *,
    config_paths: Sequence[str | os.PathLike[str]] | None = None,
    config: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_reload_interval: float | None = None,
    serve_http: bool = True,
) -> list[ServiceFactory[Any]]:
    """The default factory of every core service implemented so far, in start order.

    ``config_paths`` are the ``app-config`` files (default: ``app-config.yaml`` and
    ``app-config.local.yaml`` in the working directory when present); ``config`` is extra data
    merged under the files and ``overrides`` over everything; ``env`` replaces ``os.environ`` for
    substitutions and ``APP_CONFIG_*``; ``config_reload_interval`` (seconds) re-reads the files
    while running; ``serve_http=False`` opens no socket (serve ``backend.asgi_app`` yourself).
    """
    return [
        root_config_service_factory(
            config_paths=config_paths,
            data=config,
            overrides=overrides,
            env=env,
            reload_interval=config_reload_interval,
        ),
        root_logger_service_factory(),
        telemetry_service_factory(),
        root_metrics_service_factory(),
        root_lifecycle_service_factory(),
        root_health_service_factory(),
        root_http_router_service_factory(serve=serve_http),
        root_system_metadata_service_factory(),
        alpha_root_system_metadata_service_factory(),
        instance_metadata_service_factory(),
        http_client_service_factory(),
        logger_service_factory(),
        lifecycle_service_factory(),
        http_router_service_factory(),
        discovery_service_factory(),
        database_service_factory(),
        cache_service_factory(),
        auth_service_factory(),
        http_auth_service_factory(),
        user_info_service_factory(),
        permissions_service_factory(),
        permissions_registry_service_factory(),
        url_reader_service_factory(),
        auditor_service_factory(),
        scheduler_service_factory(),
        events_service_factory(),
        actions_registry_service_factory(),
        alpha_actions_registry_service_factory(),
        actions_service_factory(),
        alpha_actions_service_factory(),
        metrics_service_factory(),
        tracing_service_factory(),
    ]


def create_backend(
    *,
    features: Iterable[object] = (),
    config_paths: Sequence[str | os.PathLike[str]] | None = None,
    config: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_reload_interval: float | None = None,
    discover: bool = False,
    serve_http: bool = True,
) -> Backend:
    """A backend with Backstage's default core services.

    ``features`` are added in order (service factories given here replace the defaults).
    ``config_paths``, ``config``, ``overrides``, ``env`` and ``config_reload_interval`` are
    described in :func:`default_service_factories`; ``serve_http=False`` opens no socket, for
    serving ``backend.asgi_app`` from another ASGI server. With
    ``discover=True`` every feature advertised in the ``backstage_runtime.features`` entry-point
    group is added too, filtered by ``backend.packages``. Start it with ``async with backend:``
    or ``await backend.start()``.
    """
    backend = create_specialized_backend(
        default_service_factories=default_service_factories(
            config_paths=config_paths,
            config=config,
            overrides=overrides,
            env=env,
            config_reload_interval=config_reload_interval,
            serve_http=serve_http,
        )
    )
    for feature in features:
        backend.add(feature)
    if discover:
        backend.add(discovery_feature_loader(), label="entry point discovery")
    return backend
