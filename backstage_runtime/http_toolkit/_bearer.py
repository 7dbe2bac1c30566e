"""Reading request headers from an ASGI scope: the bearer token every verifier starts from."""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from typing import Any

__all__ = ["bearer_token", "header_value", "scope_of"]

_BEARER = re.compile(r"^Bearer[ ]+(\S+)$", re.IGNORECASE)


def scope_of(request: Any) -> MutableMapping[str, Any]:
    """The ASGI scope of a Quart request (or the scope itself)."""
    if isinstance(request, MutableMapping):
        return request
    scope = getattr(request, "scope", None)
    if isinstance(scope, MutableMapping):
        return scope
    raise TypeError(f"Expected a Quart request or an ASGI scope, got {type(request).__name__}")


def header_value(scope: Mapping[str, Any], name: bytes) -> str | None:
    """The first header called ``name`` (lower-case bytes), decoded as latin-1, or None."""
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def bearer_token(scope: Mapping[str, Any]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive)."""
    header = header_value(scope, b"authorization")
    if header is None:
        return None
    match = _BEARER.match(header)
    return match.group(1) if match else None
