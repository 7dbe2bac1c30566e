"""Default legacy ``core.instanceMetadata``: the installed plugins and modules as one flat list
(Backstage keeps it for backward compatibility beside ``core.rootInstanceMetadata``).
"""

from ._factory import FixedInstanceMetadata, instance_metadata_service_factory

__all__ = ["FixedInstanceMetadata", "instance_metadata_service_factory"]
