"""The default ``core.discovery`` factory builder."""

from __future__ import annotations

from typing import Any

from ...api import (
    LoggerService,
    RootConfigService,
    ServiceFactory,
    core_services,
    create_service_factory,
)
from ...api.services.discovery import DiscoveryService
from ...api.services.http import RootHttpRouterService
from ._host_discovery import HostDiscovery, read_discovery_endpoints

__all__ = ["discovery_service_factory"]


def discovery_service_factory() -> ServiceFactory[DiscoveryService]:
    """The default ``core.discovery`` factory.

    When the root HTTP router serves (our default router does), internal URLs use the port it
    really bound, so ``backend.listen.port: 0`` works; ``discovery.endpoints`` is re-read when
    the config changes (an invalid change keeps the previous entries and logs why).
    """

    def create_root_context(
        *, config: RootConfigService, logger: LoggerService, root_router: RootHttpRouterService
    ) -> HostDiscovery:
        discovery_logger = logger.child({"service": "discovery"})
        address = getattr(root_router, "listen_address", None)
        scheme = getattr(root_router, "scheme", None)
        discovery = HostDiscovery.from_config(
            config,
            logger=discovery_logger,
            listen_port=address[1] if address is not None else None,
            https=scheme == "https" if scheme is not None else None,
        )

        def on_change() -> None:
            try:
                discovery.set_endpoints(read_discovery_endpoints(config))
            except Exception as error:
                discovery_logger.error(
                    "Ignoring the changed discovery.endpoints, keeping the previous ones", error
                )

        config.subscribe(on_change)
        return discovery

    def factory(discovery: HostDiscovery, **_deps: Any) -> HostDiscovery:
        return discovery

    return create_service_factory(
        service=core_services.discovery,
        deps={
            "config": core_services.root_config,
            "logger": core_services.root_logger,
            "root_router": core_services.root_http_router,
        },
        create_root_context=create_root_context,
        factory=factory,
    )
