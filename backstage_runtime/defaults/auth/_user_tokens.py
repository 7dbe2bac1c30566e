"""User tokens issued by an auth backend (``vnd.backstage.user``), and the limited user tokens
derived from them (``vnd.backstage.limited-user``), verified against the auth plugin's JWKS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ...api import DiscoveryService, LoggerService
from ...api.errors import AuthenticationError
from ...jose import (
    ASYMMETRIC_ALGORITHMS,
    JwksClient,
    JwksUnavailableError,
    b64url,
    unverified_header,
    unverified_payload,
)

# joserfc (and cryptography under it) is imported where a token is signed or verified, so a
# backend that starts without doing either does not load it.

__all__ = ["LIMITED_USER_TOKEN_TYPE", "USER_TOKEN_TYPE", "UserTokenHandler", "VerifiedUserToken"]

USER_TOKEN_TYPE = "vnd.backstage.user"
LIMITED_USER_TOKEN_TYPE = "vnd.backstage.limited-user"


@dataclass(frozen=True)
class VerifiedUserToken:
    """A verified user token: the user entity ref, expiry, and whether it is a limited one."""

    user_entity_ref: str
    expires_at: float
    limited: bool


class UserTokenHandler:
    """Verifies user tokens with the keys at ``<auth plugin>/.well-known/jwks.json``."""

    def __init__(self, *, discovery: DiscoveryService, jwks: JwksClient, logger: LoggerService):
        self._discovery = discovery
        self._jwks = jwks
        self._logger = logger

    @staticmethod
    def is_user_token(token: str) -> bool:
        """Typed user or limited user tokens, or legacy untyped tokens with ``aud: backstage``."""
        header = unverified_header(token)
        if header is None:
            return False
        typ = header.get("typ")
        if typ in (USER_TOKEN_TYPE, LIMITED_USER_TOKEN_TYPE):
            return True
        if typ is None:
            payload = unverified_payload(token) or {}
            aud = payload.get("aud")
            return aud == "backstage" or (isinstance(aud, list) and "backstage" in aud)
        return False

    async def verify_token(self, token: str) -> VerifiedUserToken | None:
        """The verified token, or None when it is no user token; raises
        :class:`AuthenticationError`.
        """
        if not self.is_user_token(token):
            return None
        from joserfc import jwt
        from joserfc.errors import JoseError

        header = unverified_header(token) or {}
        typ = header.get("typ")
        url = f"{await self._discovery.get_base_url('auth')}/.well-known/jwks.json"
        try:
            key_set = await self._jwks.key_set(url, header.get("kid"))
            verified = jwt.decode(token, key_set, algorithms=ASYMMETRIC_ALGORITHMS)
            checks: dict[str, dict[str, object]] = {
                "iat": {"essential": True},
                "exp": {"essential": True},
                "sub": {"essential": True},
            }
            if typ is None:
                checks["aud"] = {"essential": True, "value": "backstage"}
            jwt.JWTClaimsRegistry(**checks).validate(verified.claims)  # type: ignore[arg-type]
        except (JoseError, JwksUnavailableError, ValueError) as error:
            self._logger.warn("Failed to verify incoming user token", {"reason": str(error)})
            raise AuthenticationError("Failed user token verification") from None
        subject = verified.claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise AuthenticationError("No user sub found in token")
        return VerifiedUserToken(
            subject, float(verified.claims["exp"]), typ == LIMITED_USER_TOKEN_TYPE
        )

    @staticmethod
    def create_limited_user_token(token: str) -> tuple[str, float]:
        """The limited token auth-backend pre-signed inside ``token`` (its ``uip`` claim), with
        its expiry. Header and payload are serialised byte-for-byte as auth-backend signed them.
        """
        header = unverified_header(token)
        payload = unverified_payload(token)
        if header is None or payload is None:
            raise AuthenticationError("Failed to create limited user token, invalid token")
        typ = header.get("typ")
        expires = float(payload.get("exp", 0))
        if typ is None or typ == LIMITED_USER_TOKEN_TYPE:
            return token, expires
        if typ != USER_TOKEN_TYPE:
            raise AuthenticationError("Failed to create limited user token, invalid token type")
        proof = payload.get("uip")
        if not isinstance(proof, str):
            raise AuthenticationError(
                "Failed to create limited user token, missing user identity proof"
            )
        limited_header = {
            "typ": LIMITED_USER_TOKEN_TYPE,
            "alg": header.get("alg"),
            "kid": header.get("kid"),
        }
        limited_payload = {
            "sub": payload.get("sub"),
            "iat": payload.get("iat"),
            "exp": payload.get("exp"),
        }
        return f"{_encode(limited_header)}.{_encode(limited_payload)}.{proof}", expires


def _encode(value: dict[str, object]) -> str:
    # Compact JSON in the given key order: the bytes auth-backend signed for the user proof.
    return b64url(json.dumps(value, separators=(",", ":")).encode())
