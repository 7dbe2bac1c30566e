"""Default ``core.rootSystemMetadata`` (and ``alpha.core.rootSystemMetadata``): the plugins of
the whole deployment, from ``discovery.endpoints`` and this instance's registrations.

In process only, as in Backstage: no HTTP endpoint serves it.
"""

from ._factory import (
    alpha_root_system_metadata_service_factory,
    root_system_metadata_service_factory,
)
from ._system_metadata import DefaultRootSystemMetadataService

__all__ = [
    "DefaultRootSystemMetadataService",
    "alpha_root_system_metadata_service_factory",
    "root_system_metadata_service_factory",
]
