"""Reading tokens before trusting them, and the claims checks every verifier shares."""

from __future__ import annotations

import base64
import json
from typing import Any

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "MAX_TOKEN_LENGTH",
    "b64url",
    "unverified_header",
    "unverified_payload",
]

#: Signature algorithms accepted from JWKS-published keys. Never ``none`` or an HMAC: a public
#: key must not double as a shared secret (algorithm confusion).
ASYMMETRIC_ALGORITHMS = [
    "ES256",
    "ES384",
    "ES512",
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "EdDSA",
]

#: Longer tokens are refused outright: no legitimate Backstage token comes near it, and parsing
#: an attacker's megabytes would be work for nothing.
MAX_TOKEN_LENGTH = 8_192


def b64url(data: bytes) -> str:
    """Base64url without padding, as JOSE writes it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _part(token: str, index: int) -> dict[str, Any] | None:
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        value = json.loads(_b64url_decode(parts[index]))
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def unverified_header(token: str) -> dict[str, Any] | None:
    """The JWS header of a compact token, or None when it is not one. Not verified: only for
    choosing which verifier to ask.
    """
    return _part(token, 0)


def unverified_payload(token: str) -> dict[str, Any] | None:
    """The payload of a compact token, or None. Not verified."""
    return _part(token, 1)
