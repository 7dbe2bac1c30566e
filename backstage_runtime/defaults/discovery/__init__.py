"""Default ``core.discovery``: :class:`HostDiscovery`, one per backend, shared by its plugins.

Usage in a plugin::

    @plugin.register_init(deps={"discovery": core_services.discovery})
    async def init(discovery):
        catalog = await discovery.get_base_url("catalog")   # http://localhost:7007/api/catalog
"""

from ._factory import discovery_service_factory
from ._host_discovery import DiscoveryEndpoint, HostDiscovery, read_discovery_endpoints

__all__ = [
    "DiscoveryEndpoint",
    "HostDiscovery",
    "discovery_service_factory",
    "read_discovery_endpoints",
]
