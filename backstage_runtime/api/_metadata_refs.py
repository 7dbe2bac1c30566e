"""Backstage's alpha id of the root system metadata service."""

from __future__ import annotations

from typing import Final

from ._refs import ServiceRef, create_service_ref
from .services.metadata import RootSystemMetadataService

__all__ = ["alpha_root_system_metadata_service_ref"]

#: ``alpha.core.rootSystemMetadata``: where current backend-defaults publishes the service; its
#: default factory hands out ``core.rootSystemMetadata``, so either id gives the same instance.
alpha_root_system_metadata_service_ref: Final[ServiceRef[RootSystemMetadataService]] = (
    create_service_ref(id="alpha.core.rootSystemMetadata", scope="root")
)
