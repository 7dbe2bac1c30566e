"""Reading credentials from requests: the bearer token, or the user cookie where allowed."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence
from email.utils import formatdate
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import unquote, urlsplit

from ...api import DiscoveryService
from ...api.errors import AuthenticationError, NotAllowedError
from ...api.services.auth import (
    AuthService,
    BackstageCredentials,
    BackstageNonePrincipal,
    PrincipalType,
)
from ...http_toolkit import bearer_token, header_value, scope_of

__all__ = ["COOKIE_NAME", "DefaultHttpAuthService"]

#: The user cookie Backstage's frontend sends to plugins that accept limited access.
COOKIE_NAME = "backstage-auth"


def _cookie_token(scope: Mapping[str, Any]) -> str | None:
    # Read as Express's cookie parser reads it (split on ';' then the first '=', surrounding
    # quotes dropped, %-escapes decoded), not with SimpleCookie, which gives up on a whole
    # header over one value it finds unusual (a quote, a comma) that browsers and Node accept.
    header = header_value(scope, b"cookie")
    if not header:
        return None
    for pair in header.split(";"):
        name, separator, value = pair.partition("=")
        if not separator or name.strip() != COOKIE_NAME:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if "%" in value:
            # As decodeURIComponent failing in Node's parser: the raw value is kept.
            with contextlib.suppress(UnicodeDecodeError):
                value = unquote(value, errors="strict")
        return value or None
    return None


_KEEP_COOKIE_SECONDS = 5 * 60


def _add_set_cookie(response: Any, value: str) -> None:
    if isinstance(response, list):
        response.append((b"set-cookie", value.encode("latin-1")))
    else:
        response.headers.add("Set-Cookie", value)


class DefaultHttpAuthService:
    """Backstage's ``httpAuth``: ``Authorization: Bearer`` first; the ``backstage-auth`` cookie
    only with ``allow_limited_access`` and no bearer token; no token means ``none``. Results are
    kept on the request, so the credentials barrier and the route share one verification.
    """

    def __init__(
        self, auth: AuthService, plugin_id: str, discovery: DiscoveryService | None = None
    ) -> None:
        self._auth = auth
        self._plugin_id = plugin_id
        self._discovery_service = discovery

    @property
    def _discovery(self) -> DiscoveryService:
        if self._discovery_service is None:
            raise RuntimeError("this http auth service was made without discovery")
        return self._discovery_service

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
        scope = scope_of(request)
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
        self,
        response: Any,
        *,
        credentials: BackstageCredentials | None = None,
        request: Any = None,
    ) -> float:
        """Set the ``backstage-auth`` cookie (a limited user token) on ``response`` (a Quart
        response, or a list of ASGI header pairs) and return its expiry as a UNIX timestamp.

        ``credentials`` default to the caller of ``request``. ``none`` credentials clear the
        cookie; other non-user ones raise :class:`AuthenticationError`. A cookie on ``request``
        still valid for more than five minutes is kept (nothing is set).
        """
        if credentials is None:
            if request is None:
                raise TypeError("issue_user_cookie needs credentials or the request")
            credentials = await self.credentials(request, allow_limited_access=True)
        if isinstance(credentials.principal, BackstageNonePrincipal):
            _add_set_cookie(response, await self._cookie("", 0))
            return time.time()
        if credentials.principal.type != "user":
            raise AuthenticationError("Refused to issue cookie for non-user principal")
        if request is not None:
            existing = _cookie_token(scope_of(request))
            if existing is not None:
                try:
                    current = await self._auth.authenticate(existing, allow_limited_access=True)
                except (AuthenticationError, NotAllowedError):
                    current = None
                expires = current.expires_at if current is not None else None
                if expires is not None and expires - time.time() > _KEEP_COOKIE_SECONDS:
                    return expires
        limited = await self._auth.get_limited_user_token(credentials)
        _add_set_cookie(response, await self._cookie(limited.token, limited.expires_at))
        return limited.expires_at

    async def _cookie(self, token: str, expires_at: float) -> str:
        external = urlsplit(await self._discovery.get_external_base_url(self._plugin_id))
        host = external.hostname or "localhost"
        secure = external.scheme == "https" or host == "localhost"
        cookie: SimpleCookie = SimpleCookie()
        cookie[COOKIE_NAME] = token
        morsel = cookie[COOKIE_NAME]
        morsel["domain"] = host
        morsel["path"] = "/"
        morsel["httponly"] = True
        morsel["samesite"] = "None" if secure else "Lax"
        if secure:
            morsel["secure"] = True
        morsel["expires"] = formatdate(expires_at, usegmt=True)
        return morsel.OutputString() + "; Priority=High"
