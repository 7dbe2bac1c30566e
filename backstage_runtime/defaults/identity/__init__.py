"""``core.identity`` (legacy): a verified Backstage user token from a request.

Not a default service; add it to the backend::

    backend = create_backend(features=[identity_service_factory(algorithms=["ES256"])])

New code should use ``core_services.http_auth`` and ``core_services.user_info``.
"""

from ._factory import identity_service_factory
from ._identity import DefaultIdentityService

__all__ = [
    "DefaultIdentityService",
    "identity_service_factory",
]
