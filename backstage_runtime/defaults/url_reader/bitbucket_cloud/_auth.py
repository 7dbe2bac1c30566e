"""The ``Authorization`` header of Bitbucket Cloud calls, as Backstage's
``getBitbucketCloudRequestOptions``: an OAuth consumer's token first, then ``username`` with
``token``/``appPassword`` (basic), then a ``token`` alone (bearer).

OAuth tokens come from the client credentials grant (``POST oauthTokenUrl``, the consumer's id
and secret as basic auth) and are kept until 10 minutes before they expire (Backstage's margin;
one hour assumed when the answer has no ``expires_in``).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

import aiohttp

from ....api.services.url_reader import UrlReaderError
from .._tokens import TokenCache, request_json
from .._urls import redact_url
from ._config import BitbucketCloudIntegrationConfig

__all__ = ["OAUTH_DEFAULT_LIFETIME", "OAUTH_EXPIRY_MARGIN", "BitbucketCloudAuth"]

OAUTH_EXPIRY_MARGIN = 10 * 60
OAUTH_DEFAULT_LIFETIME = 60 * 60


class BitbucketCloudAuth:
    """Headers for one ``integrations.bitbucketCloud`` entry; ``clock`` (epoch seconds) ages
    the OAuth token.
    """

    def __init__(
        self,
        integration: BitbucketCloudIntegrationConfig,
        *,
        session: aiohttp.ClientSession,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.integration = integration
        self._session = session
        self.cache: TokenCache[str, str] = TokenCache(margin=OAUTH_EXPIRY_MARGIN, clock=clock)

    def __repr__(self) -> str:
        return f"BitbucketCloudAuth(host={self.integration.host}, oauth={self.integration.oauth})"

    async def headers(self, token: str | None = None) -> dict[str, str]:
        """The header for a call; the caller's ``token`` replaces every configured credential."""
        if not token and self.integration.oauth:
            access_token = await self.cache.get("oauth", self._fetch_oauth_token)
            return {"Authorization": f"Bearer {access_token}"}
        return self.integration.auth_headers(token)

    async def _fetch_oauth_token(self) -> tuple[str, float]:
        url = self.integration.oauth_token_url
        pair = f"{self.integration.client_id}:{self.integration.client_secret}"
        answer = await request_json(
            self._session,
            "POST",
            url,
            headers={
                "Authorization": f"Basic {base64.b64encode(pair.encode()).decode()}",
                "Accept": "application/json",
            },
            data={"grant_type": "client_credentials"},
            message=f"Failed to fetch OAuth token for Bitbucket Cloud from {redact_url(url)}",
        )
        body = answer.body if isinstance(answer.body, dict) else {}
        access_token = body.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise UrlReaderError(
                f"Failed to fetch OAuth token for Bitbucket Cloud from {redact_url(url)}, the "
                "response has no access_token"
            )
        lifetime = body.get("expires_in")
        if not isinstance(lifetime, int | float) or isinstance(lifetime, bool) or lifetime <= 0:
            lifetime = OAUTH_DEFAULT_LIFETIME
        return access_token, self.cache.clock() + lifetime
