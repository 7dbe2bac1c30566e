"""Plugin-to-plugin tokens: ES256 JWTs with ``typ: vnd.backstage.plugin``, verified against the
issuing plugin's JWKS found through discovery.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...api import DiscoveryService, LoggerService
from ...api.errors import AuthenticationError
from ...jose import (
    ASYMMETRIC_ALGORITHMS,
    JwksClient,
    JwksUnavailableError,
    unverified_header,
    unverified_payload,
)
from ._key_sources import KEY_DURATION_SECONDS, PluginKeySource

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

# joserfc (and cryptography under it) is imported where a token is signed or verified, so a
# backend that starts without doing either does not load it.

__all__ = ["PLUGIN_TOKEN_TYPE", "PluginTokenHandler", "VerifiedPluginToken"]

PLUGIN_TOKEN_TYPE = "vnd.backstage.plugin"
_SUBJECT = re.compile(r"^[a-z0-9_-]+$", re.IGNORECASE)
_JWKS_PATH = "/.backstage/auth/v1/jwks.json"


@dataclass(frozen=True)
class VerifiedPluginToken:
    """A verified plugin token: the calling plugin and, when it acts for a user, their limited
    user token (``obo``).
    """

    subject: str
    on_behalf_of: str | None
    expires_at: float


class PluginTokenHandler:
    """Issues this plugin's tokens and verifies tokens other plugins send it."""

    def __init__(
        self,
        *,
        plugin_id: str,
        keys: PluginKeySource,
        discovery: DiscoveryService,
        jwks: JwksClient,
        logger: LoggerService,
        key_duration: float = KEY_DURATION_SECONDS,
    ) -> None:
        self._plugin_id = plugin_id
        self._keys = keys
        self._discovery = discovery
        self._jwks = jwks
        self._logger = logger
        self._duration = key_duration

    async def issue_token(
        self,
        *,
        target_plugin_id: str,
        on_behalf_of: str | None = None,
        obo_expires_at: float | None = None,
    ) -> str:
        """A token from this plugin to ``target_plugin_id``, valid one hour (capped at the
        on-behalf-of token's expiry).
        """
        from joserfc import jwt

        key = await self._keys.signing_key()
        now = int(time.time())
        expires = now + int(self._duration)
        if obo_expires_at is not None:
            expires = min(expires, int(obo_expires_at))
        claims: dict[str, object] = {
            "sub": self._plugin_id,
            "aud": target_plugin_id,
            "iat": now,
            "exp": expires,
        }
        if on_behalf_of is not None:
            claims["obo"] = on_behalf_of
        header = {"typ": PLUGIN_TOKEN_TYPE, "alg": self._keys.algorithm, "kid": key.kid}
        return jwt.encode(header, claims, key, algorithms=[self._keys.algorithm])

    async def verify_token(self, token: str) -> VerifiedPluginToken | None:
        """The verified token, or None when it is not a plugin token at all; raises
        :class:`AuthenticationError` when it is one but does not verify.
        """
        from joserfc import jwt
        from joserfc.errors import JoseError

        header = unverified_header(token)
        if header is None or header.get("typ") != PLUGIN_TOKEN_TYPE:
            return None
        payload = unverified_payload(token) or {}
        subject = payload.get("sub")
        if not isinstance(subject, str) or not subject:
            raise AuthenticationError("Invalid plugin token: missing subject")
        if not _SUBJECT.match(subject):
            raise AuthenticationError("Invalid plugin token: forbidden subject format")
        base_url = await self._discovery.get_base_url(subject)
        # ``subject`` is unverified: the URL is attacker-chosen, which the JWKS client's bounded
        # cache, per-URL fetch rate and negative memory are there for.
        key_set = await self._source_keys(subject, f"{base_url}{_JWKS_PATH}", header.get("kid"))
        try:
            verified = jwt.decode(token, key_set, algorithms=ASYMMETRIC_ALGORITHMS)
            if verified.header.get("typ") != PLUGIN_TOKEN_TYPE:
                raise AuthenticationError("Failed plugin token verification")
            jwt.JWTClaimsRegistry(
                iat={"essential": True},
                exp={"essential": True},
                sub={"essential": True},
                aud={"essential": True, "value": self._plugin_id},
            ).validate(verified.claims)
        except (JoseError, JwksUnavailableError, ValueError) as error:
            self._logger.warn("Failed to verify incoming plugin token", {"reason": str(error)})
            raise AuthenticationError("Failed plugin token verification") from None
        obo = verified.claims.get("obo")
        return VerifiedPluginToken(
            subject, obo if isinstance(obo, str) else None, float(verified.claims["exp"])
        )

    async def _source_keys(self, subject: str, jwks_url: str, kid: str | None) -> KeySet:
        """The source plugin's keys. Backstage probes the URL with a request of its own before
        the first token of each source; the key set fetch answers the same question (404: no
        JWKS endpoint), so it is the probe, and a failing source costs no extra requests.
        """
        try:
            return await self._jwks.key_set(jwks_url, kid)
        except JwksUnavailableError as error:
            if error.status == 404:
                raise AuthenticationError(
                    f"Received a plugin token where the source '{subject}' plugin unexpectedly "
                    "does not have a JWKS endpoint. The target plugin needs to be migrated to be "
                    "installed in an app using the new backend system."
                ) from None
            self._logger.error("Unexpected failure for target JWKS check", {"reason": str(error)})
            raise AuthenticationError("Failed plugin token verification") from None
