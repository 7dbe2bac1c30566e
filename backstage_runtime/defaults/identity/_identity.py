"""Legacy ``core.identity``: a verified Backstage user token from a request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError

from ...api import DiscoveryService, LoggerService
from ...api.errors import AuthenticationError
from ...api.services.identity import BackstageIdentityResponse, BackstageUserIdentity
from ...http_toolkit import bearer_token, scope_of
from ...jose import JwksClient, unverified_header

__all__ = ["DefaultIdentityService"]


class DefaultIdentityService:
    """Verifies the request's bearer token as a user token issued by the auth backend."""

    def __init__(
        self,
        *,
        discovery: DiscoveryService,
        jwks: JwksClient,
        logger: LoggerService,
        issuer: str | None,
        algorithms: Sequence[str],
    ) -> None:
        self._discovery = discovery
        self._jwks = jwks
        self._logger = logger
        self._issuer = issuer
        self._algorithms = list(algorithms)

    async def get_identity(self, *, request: Any) -> BackstageIdentityResponse | None:
        """The caller's identity, or None without a bearer token."""
        token = bearer_token(scope_of(request))
        if token is None:
            return None
        header = unverified_header(token)
        if header is None:
            raise AuthenticationError("Invalid token")
        url = f"{await self._discovery.get_base_url('auth')}/.well-known/jwks.json"
        try:
            key_set = await self._jwks.key_set(url, header.get("kid"))
            verified = jwt.decode(token, key_set, algorithms=self._algorithms)
            checks: dict[str, dict[str, object]] = {
                "sub": {"essential": True},
                "exp": {"essential": True},
            }
            if self._issuer is not None:
                checks["iss"] = {"essential": True, "value": self._issuer}
            jwt.JWTClaimsRegistry(**checks).validate(verified.claims)  # type: ignore[arg-type]
        except Exception as error:  # joserfc and the key fetch raise many kinds
            if not isinstance(error, JoseError | ValueError):
                self._logger.warn("Could not verify an identity token", {"reason": str(error)})
            raise AuthenticationError("Invalid token") from None
        subject = verified.claims["sub"]
        ownership = verified.claims.get("ent") or [subject]
        if not isinstance(ownership, list) or not all(isinstance(r, str) for r in ownership):
            raise AuthenticationError("Invalid ownership claim in token")
        return BackstageIdentityResponse(
            token=token,
            identity=BackstageUserIdentity(str(subject), tuple(ownership)),
        )
