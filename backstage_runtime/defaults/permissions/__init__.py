"""Default ``core.permissions``: Backstage's ``ServerPermissionClient``.

Service callers are answered locally (their token's access restrictions, else ALLOW); with
``permission.enabled`` not true everything is allowed; otherwise requests go to the permission
backend's ``/authorize`` with a plugin token on behalf of the caller, one item per request or,
with ``permission.EXPERIMENTAL_enableBatchedRequests``, one item per permission name.
"""

from typing import TYPE_CHECKING

from ..._lazy import lazy_exports
from ._factory import permissions_service_factory

# The rest loads on first use (backstage_runtime._lazy): a backend imports this package for its
# factory, and builds the service only when something depends on it.
if TYPE_CHECKING:
    from ._permissions import DefaultPermissionsService
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "DefaultPermissionsService": "._permissions",
        },
    )

__all__ = [
    "DefaultPermissionsService",
    "permissions_service_factory",
]
