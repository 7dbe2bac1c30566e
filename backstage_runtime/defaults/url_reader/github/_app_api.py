"""The GitHub App endpoints Backstage's credentials provider calls: list the app's
installations and create an installation token (both with the app's RS256 JWT), and list the
repositories a token for selected repositories may read.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
from joserfc import jwt
from joserfc.jwk import RSAKey

from ....api.services.url_reader import UrlReaderError
from .._tokens import request_json
from .._urls import redact_url, same_origin
from ._app_config import GithubAppConfig, load_app_private_key
from ._rate_limit import github_rate_limited

__all__ = ["GithubAppApi", "Installation", "InstallationToken", "create_app_jwt"]

#: Backstage sends this preview type: GitHub Enterprise Server versions of the Apps API want it.
APPS_ACCEPT = "application/vnd.github.machine-man-preview+json"
#: GitHub refuses JWTs whose ``iat`` is ahead of its clock: backdate it, as GitHub advises.
JWT_BACKDATE = 60
#: GitHub refuses JWTs that expire more than 10 minutes ahead; 9 minutes leaves room for skew.
JWT_LIFETIME = 9 * 60
_MAX_PAGES = 100
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


def create_app_jwt(app_id: int, key: RSAKey, now: float) -> str:
    """The app's JWT: RS256, ``iss`` the app id, issued a minute ago, expiring within 10."""
    issued = int(now) - JWT_BACKDATE
    claims = {"iat": issued, "exp": int(now) + JWT_LIFETIME, "iss": app_id}
    return jwt.encode({"alg": "RS256", "typ": "JWT"}, claims, key, algorithms=["RS256"])


@dataclass(frozen=True)
class Installation:
    """An installation of the app on an account (``owner`` is the account's login)."""

    id: int
    owner: str
    suspended: bool


@dataclass(frozen=True)
class InstallationToken:
    """A token for one installation; ``expires_at`` in epoch seconds."""

    token: str = field(repr=False)
    expires_at: float
    repository_selection: str


class GithubAppApi:
    """Calls to ``api_base_url`` on behalf of one app; ``clock`` dates its JWTs."""

    def __init__(
        self,
        app: GithubAppConfig,
        *,
        api_base_url: str,
        session: aiohttp.ClientSession,
        clock: Callable[[], float],
    ) -> None:
        self.app = app
        self._api = api_base_url
        self._session = session
        self._clock = clock
        self._key = RSAKey.import_key(load_app_private_key(app.private_key, "privateKey"))

    def __repr__(self) -> str:
        return f"GithubAppApi(app_id={self.app.app_id}, api={self._api})"

    async def installations(self) -> list[Installation]:
        """Every installation of the app (``GET /app/installations``, all pages)."""
        found = []
        async for item in self._pages(
            f"{self._api}/app/installations?per_page=100",
            self._app_headers,
            what="list its installations",
        ):
            account = item.get("account") or {}
            if isinstance(item.get("id"), int) and isinstance(account.get("login"), str):
                found.append(
                    Installation(item["id"], account["login"], bool(item.get("suspended_by")))
                )
        return found

    async def create_token(self, installation_id: int) -> InstallationToken:
        """A new token for the installation (``POST /app/installations/<id>/access_tokens``)."""
        url = f"{self._api}/app/installations/{installation_id}/access_tokens"
        answer = await request_json(
            self._session,
            "POST",
            url,
            headers=self._app_headers(),
            message=(
                f"GitHub App {self.app.app_id} could not create an installation token at "
                f"{redact_url(url)}"
            ),
            rate_limited=github_rate_limited,
        )
        body = answer.body if isinstance(answer.body, dict) else {}
        token, expires = body.get("token"), body.get("expires_at")
        try:
            expires_at = datetime.fromisoformat(str(expires)).timestamp()
        except ValueError:
            expires_at = None
        if not isinstance(token, str) or not token or expires_at is None:
            raise UrlReaderError(
                f"GitHub App {self.app.app_id} got an invalid installation token answer from "
                f"{redact_url(url)}"
            )
        return InstallationToken(token, expires_at, str(body.get("repository_selection") or "all"))

    async def repositories(self, token: str) -> list[str]:
        """The names of the repositories ``token`` may read (``GET /installation/repositories``)."""
        names = []
        async for page in self._pages(
            f"{self._api}/installation/repositories?per_page=100",
            lambda: {"Authorization": f"Bearer {token}", "Accept": APPS_ACCEPT},
            what="list the repositories of its installation",
            items="repositories",
        ):
            if isinstance(page.get("name"), str):
                names.append(page["name"])
        return names

    # -- helpers -----------------------------------------------------------------------------

    def _app_headers(self) -> dict[str, str]:
        token = create_app_jwt(self.app.app_id, self._key, self._clock())
        return {"Authorization": f"Bearer {token}", "Accept": APPS_ACCEPT}

    async def _pages(
        self,
        url: str,
        headers: Callable[[], dict[str, str]],
        *,
        what: str,
        items: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        next_url: str | None = url
        for _ in range(_MAX_PAGES):
            if next_url is None:
                return
            answer = await request_json(
                self._session,
                "GET",
                next_url,
                headers=headers(),
                message=(
                    f"GitHub App {self.app.app_id} could not {what} at {redact_url(next_url)}"
                ),
                rate_limited=github_rate_limited,
            )
            body = answer.body
            if items is not None:
                body = body.get(items) if isinstance(body, dict) else None
            for item in body if isinstance(body, list) else []:
                if isinstance(item, dict):
                    yield item
            match = _NEXT_LINK.search(answer.headers.get("Link", ""))
            # The app's credentials only go back to the API they were made for.
            next_url = match.group(1) if match and same_origin(match.group(1), self._api) else None
