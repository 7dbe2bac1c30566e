"""The ``core.identity`` factory builder."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...api import (
    DiscoveryService,
    LoggerService,
    ServiceFactory,
    core_services,
    create_service_factory,
    runtime_services,
)
from ...jose import JwksClient
from ._identity import DefaultIdentityService

if TYPE_CHECKING:
    from ...api.services.identity import IdentityService

__all__ = ["identity_service_factory"]


def identity_service_factory(
    *, issuer: str | None = None, algorithms: Sequence[str] = ("ES256",)
) -> ServiceFactory[IdentityService]:
    """A ``core.identity`` factory (Backstage's ``identityFactory``): ``issuer`` is checked
    when given, ``algorithms`` restricts the token's ``alg`` (default ``ES256``).
    """

    def factory(
        *, discovery: DiscoveryService, logger: LoggerService, http_client: Any
    ) -> DefaultIdentityService:
        return DefaultIdentityService(
            discovery=discovery,
            jwks=JwksClient(http_client),
            logger=logger,
            issuer=issuer,
            algorithms=algorithms,
        )

    return create_service_factory(
        service=core_services.identity,
        deps={
            "discovery": core_services.discovery,
            "logger": core_services.logger,
            "http_client": runtime_services.http_client,
        },
        factory=factory,
        # The JWKS client builds the session (and loads aiohttp) for its first fetch.
        deferred=("http_client",),
    )
