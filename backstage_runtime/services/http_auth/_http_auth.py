"""Reading credentials from requests: the bearer token, or the user cookie where allowed."""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping, Sequence
from http.cookies import CookieError, SimpleCookie
from typing import Any

from ...api.errors import AuthenticationError, NotAllowedError, NotImplementedYetError
from ...api.services.auth import (
    AuthService,
    BackstageCredentials,
    BackstageNonePrincipal,
    PrincipalType,
)

__all__ = ["COOKIE_NAME", "DefaultHttpAuthService", "bearer_token"]

#: The user cookie Backstage's frontend sends to plugins that accept limited access.
COOKIE_NAME = "backstage-auth"
_BEARER = re.compile(r"^Bearer[ ]+(\S+)$", re.IGNORECASE)


def _scope_of(request: Any) -> MutableMapping[str, Any]:
    if isinstance(request, MutableMapping):
        return request
    scope = getattr(request, "scope", None)
    if isinstance(scope, MutableMapping):
        return scope
    raise TypeError(f"Expected a Quart request or an ASGI scope, got {type(request).__name__}")


def _header(scope: Mapping[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def bearer_token(scope: Mapping[str, Any]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive)."""
    header = _header(scope, b"authorization")
    if header is None:
        return None
    match = _BEARER.match(header)
    return match.group(1) if match else None


def _cookie_token(scope: Mapping[str, Any]) -> str | None:
    header = _header(scope, b"cookie")
    if not header:
        return None
    try:
        cookie = SimpleCookie(header)
    except CookieError:
        return None
    morsel = cookie.get(COOKIE_NAME)
    return morsel.value if morsel is not None and morsel.value else None


class DefaultHttpAuthService:
    """Backstage's ``httpAuth``: ``Authorization: Bearer`` first; the ``backstage-auth`` cookie
    only with ``allow_limited_access`` and no bearer token; no token means ``none``. Results are
    kept on the request, so the credentials barrier and the route share one verification.
    """

    def __init__(self, auth: AuthService, plugin_id: str) -> None:
        self._auth = auth
        self._plugin_id = plugin_id

    async def credentials(
        self,
        request: Any,
        *,
        allow: Sequence[PrincipalType] | None = None,
        allow_limited_access: bool = False,
    ) -> BackstageCredentials:
        """The caller's credentials (``request`` is a Quart request or an ASGI scope).

        Raises :class:`AuthenticationError` for an invalid token or when ``none`` is not in
        ``allow`` (``Missing credentials``), :class:`NotAllowedError` when the principal's type
        is not in ``allow``. Without ``allow`` any principal, ``none`` included, is returned.
        """
        scope = _scope_of(request)
        memo_key = (
            "backstage.credentials.limited" if allow_limited_access else "backstage.credentials"
        )
        credentials: BackstageCredentials | None = scope.get(memo_key)
        if credentials is None:
            credentials = await self._extract(scope, allow_limited_access)
            scope[memo_key] = credentials
        if allow is not None and credentials.principal.type not in allow:
            if isinstance(credentials.principal, BackstageNonePrincipal):
                raise AuthenticationError("Missing credentials")
            raise NotAllowedError(
                f"This endpoint does not allow '{credentials.principal.type}' credentials"
            )
        return credentials

    async def _extract(
        self, scope: Mapping[str, Any], allow_limited_access: bool
    ) -> BackstageCredentials:
        token = bearer_token(scope)
        if token is None and allow_limited_access:
            token = _cookie_token(scope)
        if token is None:
            return await self._auth.get_none_credentials()
        return await self._auth.authenticate(token, allow_limited_access=allow_limited_access)

    async def issue_user_cookie(
        self, response: Any, *, credentials: BackstageCredentials | None = None
    ) -> float:
        """Not available yet (the user cookie is a later step of the auth work): raises
        ``NotImplementedYetError`` (HTTP 501).
        """
        raise NotImplementedYetError("Issuing the user cookie is not implemented yet")
