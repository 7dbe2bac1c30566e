"""A user's entity ref and ownership refs from their token, cached for five seconds."""

from __future__ import annotations

import time
from typing import Any

import aiohttp

from ...api import DiscoveryService
from ...api.errors import AuthenticationError, ResponseError
from ...api.services.auth import BackstageCredentials, BackstageUserInfo, BackstageUserPrincipal
from ...jose import unverified_payload

__all__ = ["DefaultUserInfoService"]

_TTL_SECONDS = 5.0


class DefaultUserInfoService:
    """Backstage's ``DefaultUserInfoService`` with its five-second cache."""

    def __init__(
        self,
        discovery: DiscoveryService,
        session: aiohttp.ClientSession,
        cache: dict[str, tuple[float, BackstageUserInfo]],
    ) -> None:
        self._discovery = discovery
        self._session = session
        self._cache = cache

    async def get_user_info(self, credentials: BackstageCredentials) -> BackstageUserInfo:
        """The user's entity ref and ownership refs; raises for non-user credentials (a plain
        error, as Backstage: calling this for a service is a programming mistake).
        """
        principal = credentials.principal
        if not isinstance(principal, BackstageUserPrincipal) or not credentials.token:
            raise TypeError("Only user credentials are supported")
        token = credentials.token
        now = time.monotonic()
        cached = self._cache.get(token)
        if cached is not None and cached[0] > now:
            return cached[1]
        payload = unverified_payload(token) or {}
        ownership = payload.get("ent")
        if ownership is None:
            ownership = await self._fetch_ownership(token)
        if not isinstance(ownership, list) or not all(isinstance(ref, str) for ref in ownership):
            raise AuthenticationError("Invalid ownership entity refs in the user's token")
        info = BackstageUserInfo(principal.user_entity_ref, tuple(ownership))
        self._cache[token] = (now + _TTL_SECONDS, info)
        if len(self._cache) > 1000:
            for key in [k for k, (expiry, _) in self._cache.items() if expiry <= now]:
                del self._cache[key]
        return info

    async def _fetch_ownership(self, token: str) -> Any:
        url = f"{await self._discovery.get_base_url('auth')}/v1/userinfo"
        async with self._session.get(url, headers={"Authorization": f"Bearer {token}"}) as reply:
            if reply.status != 200:
                raise ResponseError(
                    f"Request failed with {reply.status} {reply.reason or ''}".strip(),
                    status_code=reply.status,
                    body=await reply.text(),
                )
            body = await reply.json(content_type=None)
        claims = body.get("claims") if isinstance(body, dict) else None
        return claims.get("ent") if isinstance(claims, dict) else None
