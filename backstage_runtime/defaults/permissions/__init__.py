"""Default ``core.permissions``: Backstage's ``ServerPermissionClient``.

Service callers are answered locally (their token's access restrictions, else ALLOW); with
``permission.enabled`` not true everything is allowed; otherwise requests go to the permission
backend's ``/authorize`` with a plugin token on behalf of the caller, one item per request or,
with ``permission.EXPERIMENTAL_enableBatchedRequests``, one item per permission name.
"""

from ._factory import permissions_service_factory
from ._permissions import DefaultPermissionsService

__all__ = [
    "DefaultPermissionsService",
    "permissions_service_factory",
]
