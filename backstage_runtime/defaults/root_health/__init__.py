"""Default ``core.rootHealth``: liveness always, readiness once the backend has started."""

from ._factory import root_health_service_factory
from ._health import BackendHealth

__all__ = [
    "BackendHealth",
    "root_health_service_factory",
]
