"""The default ``core.rootHealth`` factory builder."""

from __future__ import annotations

from ...api import RootLifecycleService, ServiceFactory, core_services, create_service_factory
from ...api.services.http import RootHealthService
from ._health import BackendHealth

__all__ = ["root_health_service_factory"]


def root_health_service_factory() -> ServiceFactory[RootHealthService]:
    """The default ``core.rootHealth`` factory."""

    def factory(*, lifecycle: RootLifecycleService) -> BackendHealth:
        return BackendHealth(lifecycle)

    return create_service_factory(
        service=core_services.root_health,
        deps={"lifecycle": core_services.root_lifecycle},
        factory=factory,
    )
