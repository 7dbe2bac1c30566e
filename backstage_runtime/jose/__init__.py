"""JOSE helpers shared by the token verifiers (``core.auth``, the legacy ``core.identity``):
remote JSON Web Key Sets with a bounded cache, and reading a compact token before trusting it.

A toolkit layer: it imports nothing of the backend but the standard library and joserfc, so any
default service may use it without depending on another.
"""

from ._jwks_client import JwksClient, JwksUnavailableError
from ._unverified import (
    ASYMMETRIC_ALGORITHMS,
    MAX_TOKEN_LENGTH,
    b64url,
    unverified_header,
    unverified_payload,
)

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "MAX_TOKEN_LENGTH",
    "JwksClient",
    "JwksUnavailableError",
    "b64url",
    "unverified_header",
    "unverified_payload",
]
