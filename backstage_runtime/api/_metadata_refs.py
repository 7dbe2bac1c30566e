"""Backstage's alpha id of the root system metadata service, and the legacy instance metadata."""

from __future__ import annotations

from typing import Final

from ._refs import ServiceRef, create_service_ref
from .services.metadata import InstanceMetadataService, RootSystemMetadataService

__all__ = ["alpha_root_system_metadata_service_ref", "instance_metadata_service_ref"]

#: ``alpha.core.rootSystemMetadata``: where current backend-defaults publishes the service; its
#: default factory hands out ``core.rootSystemMetadata``, so either id gives the same instance.
alpha_root_system_metadata_service_ref: Final[ServiceRef[RootSystemMetadataService]] = (
    create_service_ref(id="alpha.core.rootSystemMetadata", scope="root")
)

#: The legacy ``core.instanceMetadata`` (plugin-scoped; Backstage's ``instanceMetadataServiceRef``
#: from ``backend-plugin-api/alpha``), still installed by ``create_backend`` as in Backstage.
instance_metadata_service_ref: Final[ServiceRef[InstanceMetadataService]] = create_service_ref(
    id="core.instanceMetadata"
)
