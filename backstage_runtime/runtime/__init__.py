"""The container: registry, dependency graph, initializer, backend, entry-point loading.

Backstage's ``@backstage/backend-app-api`` in Python.
"""

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
from ._feature_graph import FeatureGraph, GraphEdge, GraphNode
from ._graph import DependencyGraph
from ._lifecycle_drivers import LifecycleDriverError
from ._startup_result import PluginStartup, StartupResult

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
