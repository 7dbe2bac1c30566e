"""The default ``core.rootSystemMetadata`` factory and its alpha alias."""

from __future__ import annotations

from ...api import (
    LoggerService,
    RootConfigService,
    ServiceFactory,
    core_services,
    create_service_factory,
)
from ...api._metadata_refs import alpha_root_system_metadata_service_ref
from ...api.services.metadata import RootInstanceMetadataService, RootSystemMetadataService
from ._system_metadata import DefaultRootSystemMetadataService

__all__ = ["alpha_root_system_metadata_service_factory", "root_system_metadata_service_factory"]


def root_system_metadata_service_factory() -> ServiceFactory[RootSystemMetadataService]:
    """The default ``core.rootSystemMetadata``: :class:`DefaultRootSystemMetadataService`."""

    def factory(
        *,
        config: RootConfigService,
        logger: LoggerService,
        instance_metadata: RootInstanceMetadataService,
    ) -> RootSystemMetadataService:
        return DefaultRootSystemMetadataService(
            config=config,
            logger=logger.child({"service": "rootSystemMetadata"}),
            instance_metadata=instance_metadata,
        )

    return create_service_factory(
        service=core_services.root_system_metadata,
        deps={
            "config": core_services.root_config,
            "logger": core_services.root_logger,
            "instance_metadata": core_services.root_instance_metadata,
        },
        factory=factory,
    )


def alpha_root_system_metadata_service_factory() -> ServiceFactory[RootSystemMetadataService]:
    """``alpha.core.rootSystemMetadata`` (Backstage's alpha id): ``core.rootSystemMetadata``."""

    def factory(*, metadata: RootSystemMetadataService) -> RootSystemMetadataService:
        return metadata

    return create_service_factory(
        service=alpha_root_system_metadata_service_ref,
        deps={"metadata": core_services.root_system_metadata},
        factory=factory,
    )
