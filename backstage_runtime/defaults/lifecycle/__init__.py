"""Default ``core.rootLifecycle`` and ``core.lifecycle`` services."""

from ._factory import lifecycle_service_factory, root_lifecycle_service_factory
from ._lifecycle import PluginLifecycle, RootLifecycle

__all__ = [
    "PluginLifecycle",
    "RootLifecycle",
    "lifecycle_service_factory",
    "root_lifecycle_service_factory",
]
