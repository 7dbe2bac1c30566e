"""The default legacy ``core.instanceMetadata`` factory."""

from __future__ import annotations

from ...api import ServiceFactory, core_services, create_service_factory
from ...api._metadata_refs import instance_metadata_service_ref
from ...api.services.metadata import (
    BackendFeatureMeta,
    InstanceMetadataService,
    RootInstanceMetadataService,
)

__all__ = ["FixedInstanceMetadata", "instance_metadata_service_factory"]


class FixedInstanceMetadata:
    """``core.instanceMetadata`` over a list read once: the backend's features do not change."""

    def __init__(self, features: tuple[BackendFeatureMeta, ...]) -> None:
        self._features = features

    def get_installed_features(self) -> tuple[BackendFeatureMeta, ...]:
        """Each installed plugin followed by its modules."""
        return self._features


def instance_metadata_service_factory() -> ServiceFactory[InstanceMetadataService]:
    """The legacy ``core.instanceMetadata``, flattened from ``core.rootInstanceMetadata`` as
    Backstage's ``instanceMetadataServiceFactory`` does.
    """

    async def factory(*, instance: RootInstanceMetadataService) -> InstanceMetadataService:
        features: list[BackendFeatureMeta] = []
        for plugin in await instance.get_installed_plugins():
            features.append(BackendFeatureMeta("plugin", plugin.plugin_id))
            features.extend(
                BackendFeatureMeta("module", plugin.plugin_id, module.module_id)
                for module in plugin.modules
            )
        return FixedInstanceMetadata(tuple(features))

    return create_service_factory(
        service=instance_metadata_service_ref,
        deps={"instance": core_services.root_instance_metadata},
        factory=factory,
    )
