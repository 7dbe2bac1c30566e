"""The default ``core.auditor`` factory builder."""

from __future__ import annotations

from typing import Any

from ...api import (
    Config,
    LoggerService,
    PluginMetadataService,
    ServiceFactory,
    core_services,
    create_service_factory,
)
from ...api.services.auditor import AuditorService
from ...api.services.auth import AuthService, HttpAuthService
from ._auditor import DefaultAuditorService, read_severity_levels

__all__ = ["auditor_service_factory"]


def auditor_service_factory() -> ServiceFactory[AuditorService]:
    """The default ``core.auditor`` factory; an invalid severity mapping fails the start."""

    def create_root_context(*, config: Config, **_root_deps: Any) -> dict[str, str]:
        return read_severity_levels(config)

    def factory(
        levels: dict[str, str],
        *,
        logger: LoggerService,
        plugin_metadata: PluginMetadataService,
        auth: AuthService,
        http_auth: HttpAuthService,
        **_root_deps: Any,
    ) -> DefaultAuditorService:
        return DefaultAuditorService(
            plugin_id=plugin_metadata.get_id(),
            logger=logger,
            auth=auth,
            http_auth=http_auth,
            levels=levels,
        )

    return create_service_factory(
        service=core_services.auditor,
        deps={
            "config": core_services.root_config,
            "logger": core_services.logger,
            "plugin_metadata": core_services.plugin_metadata,
            "auth": core_services.auth,
            "http_auth": core_services.http_auth,
        },
        create_root_context=create_root_context,
        factory=factory,
        # Built at every plugin's start, so a bad severity mapping stops the start at once.
        initialization="always",
    )
