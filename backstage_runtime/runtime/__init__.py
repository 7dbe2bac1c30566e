"""The container: registry, dependency graph, initializer, backend, entry-point loading.

Backstage's ``@backstage/backend-app-api`` in Python.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from ..api.errors import ExtensionPointClosedError, ServiceInstantiationError
from ._backend import Backend, BackendStateError, create_specialized_backend
from ._entry_points import (
    ENTRY_POINT_GROUP,
    DiscoveredFeature,
    EntryPointError,
    EntryPointScan,
    PackageFilter,
    discover_features,
    discovery_feature_loader,
    scan_entry_points,
)
from ._graph import DependencyGraph
from ._lifecycle_drivers import LifecycleDriverError
from ._startup_result import PluginStartup, StartupResult

# The drawing of the graph loads when first asked for (`backstage-runtime graph`,
# Backend.inspect_graph): starting a backend does not need it.
if TYPE_CHECKING:
    from ._feature_graph import FeatureGraph, GraphEdge, GraphNode
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "FeatureGraph": "._feature_graph",
            "GraphEdge": "._feature_graph",
            "GraphNode": "._feature_graph",
        },
    )

__all__ = [
    "ENTRY_POINT_GROUP",
    "Backend",
    "BackendStateError",
    "DependencyGraph",
    "DiscoveredFeature",
    "EntryPointError",
    "EntryPointScan",
    "ExtensionPointClosedError",
    "FeatureGraph",
    "GraphEdge",
    "GraphNode",
    "LifecycleDriverError",
    "PackageFilter",
    "PluginStartup",
    "ServiceInstantiationError",
    "StartupResult",
    "create_specialized_backend",
    "discover_features",
    "discovery_feature_loader",
    "scan_entry_points",
]
