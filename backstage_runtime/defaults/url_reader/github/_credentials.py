"""Credentials for one GitHub host, as Backstage's ``SingleInstanceGithubCredentialsProvider``.

For a URL's owner each configured app looks up its installation on that account and creates an
installation token, kept until 10 minutes before it expires (Backstage's margin for clock
skew). The first app with a token wins; an app that is not installed there, or whose
``allowedInstallationOwners`` leaves the owner out, gives none. Without an app token the
integration's ``token`` is used, or nothing (anonymous access to public repositories).

Apps with ``publicAccess`` give, when no app covers the owner, a token of one of their own
installations: GitHub lets any installation token read public repositories.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import aiohttp
import anyio

from ....api.services.url_reader import UrlReaderError
from .._git import path_segments
from .._tokens import TokenCache
from .._urls import split_url
from ._app_api import GithubAppApi, Installation
from ._app_config import GithubAppConfig
from ._config import GithubIntegrationConfig

__all__ = [
    "TOKEN_EXPIRY_MARGIN",
    "GithubAppCredentialsMux",
    "GithubCredentials",
    "GithubCredentialsProvider",
    "SingleInstanceGithubCredentialsProvider",
]

#: Installation tokens are renewed this long before GitHub says they expire (as Backstage).
TOKEN_EXPIRY_MARGIN = 10 * 60


@dataclass(frozen=True)
class GithubCredentials:
    """A token for a request and where it came from (``app`` installation or ``token``)."""

    token: str | None = field(repr=False)
    type: Literal["app", "token"]

    @property
    def headers(self) -> dict[str, str]:
        """The ``Authorization`` header, or nothing for anonymous access."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


class GithubCredentialsProvider(Protocol):
    """Gives the credentials for a GitHub URL (an owner's or a repository's)."""

    async def get_credentials(self, url: str) -> GithubCredentials:
        """Credentials for ``url``."""
        ...


class _NoInstallation(Exception):
    """The app has no installation to use for the owner (Backstage's ``NotFoundError``)."""


@dataclass
class _AppToken:
    token: str = field(repr=False)
    repositories: frozenset[str] | None  # lower-cased names when limited to selected ones
    # Held while the repository list is fetched again, so concurrent misses share one fetch.
    relisting: anyio.Lock = field(default_factory=anyio.Lock, repr=False, compare=False)


class GithubAppManager:
    """Installation tokens of one app, cached per owner."""

    def __init__(self, api: GithubAppApi, *, clock: Callable[[], float]) -> None:
        self.app: GithubAppConfig = api.app
        self._api = api
        # Keyed by lower-cased owner; "*" (no GitHub login has one) is the publicAccess token.
        self._cache: TokenCache[str, _AppToken] = TokenCache(
            margin=TOKEN_EXPIRY_MARGIN, clock=clock
        )
        owners = self.app.allowed_installation_owners
        self._allowed = None if owners is None else {owner.lower() for owner in owners}

    def __repr__(self) -> str:
        return f"GithubAppManager(app_id={self.app.app_id})"

    async def installation_token(self, owner: str, repo: str | None) -> str | None:
        """A token of the app's installation on ``owner``; None when the owner is not allowed.

        Raises :class:`_NoInstallation` when the app is not installed there, and
        :class:`UrlReaderError` when the installation is suspended, cannot read ``repo``, or
        GitHub fails.
        """
        if self._allowed is not None and owner.lower() not in self._allowed:
            return None  # an empty token still allows anonymous access to public repositories
        cached = await self._cache.get(owner.lower(), lambda: self._token_for_owner(owner))
        limited = cached.repositories
        if repo is not None and limited is not None and repo.lower() not in limited:
            limited = await self._relist(cached, limited)
        if repo is not None and limited is not None and repo.lower() not in limited:
            raise UrlReaderError(
                f"The Backstage GitHub application used in the {owner} organization does not "
                f"have access to a repository with the name {repo}"
            )
        return cached.token

    async def public_token(self) -> str | None:
        """With ``publicAccess``, a token of one of the app's usable installations."""
        if not self.app.public_access:
            return None
        try:
            cached = await self._cache.get("*", self._token_for_public)
        except _NoInstallation:
            return None
        return cached.token

    async def _relist(self, cached: _AppToken, seen: frozenset[str]) -> frozenset[str] | None:
        """The token's repositories listed again: the token is cached per owner (Backstage
        caches per repository), so a repository selected after it was created would otherwise
        be refused until it is renewed. Callers that missed on the same list share one listing.
        """
        async with cached.relisting:
            if cached.repositories is seen:
                names = await self._api.repositories(cached.token)
                cached.repositories = frozenset(name.lower() for name in names)
            return cached.repositories

    async def _token_for_owner(self, owner: str) -> tuple[_AppToken, float]:
        installations = await self._api.installations()
        match = next((i for i in installations if i.owner.lower() == owner.lower()), None)
        if match is None:
            raise _NoInstallation(f"No app installation found for {owner} in {self.app.app_id}")
        if match.suspended:
            raise UrlReaderError(f"The GitHub application for {owner} is suspended")
        return await self._create(match)

    async def _token_for_public(self) -> tuple[_AppToken, float]:
        usable = [
            installation
            for installation in await self._api.installations()
            if not installation.suspended
            and (self._allowed is None or installation.owner.lower() in self._allowed)
        ]
        if not usable:
            raise _NoInstallation(f"No usable app installation in {self.app.app_id}")
        return await self._create(usable[0])

    async def _create(self, installation: Installation) -> tuple[_AppToken, float]:
        created = await self._api.create_token(installation.id)
        repositories = None
        if created.repository_selection == "selected":
            names = await self._api.repositories(created.token)
            repositories = frozenset(name.lower() for name in names)
        return _AppToken(created.token, repositories), created.expires_at


class GithubAppCredentialsMux:
    """The apps of one GitHub host, asked together (Backstage's ``GithubAppCredentialsMux``)."""

    def __init__(self, managers: Sequence[GithubAppManager]) -> None:
        self.apps = list(managers)

    async def get_app_token(self, owner: str, repo: str | None = None) -> str | None:
        """The first app's token for ``owner``; None when no app covers it.

        An app's failure other than not being installed is raised when no app has a token.
        """
        if not self.apps:
            return None
        results: list[str | Exception | None] = [None] * len(self.apps)

        async def ask(index: int, manager: GithubAppManager) -> None:
            try:
                results[index] = await manager.installation_token(owner, repo)
            except Exception as error:
                results[index] = error

        async with anyio.create_task_group() as group:
            for index, manager in enumerate(self.apps):
                group.start_soon(ask, index, manager)
        for result in results:
            if isinstance(result, str) and result:
                return result
        for result in results:
            if isinstance(result, Exception) and not isinstance(result, _NoInstallation):
                raise result
        for manager in self.apps:
            token = await manager.public_token()
            if token:
                return token
        return None


class SingleInstanceGithubCredentialsProvider:
    """Credentials for URLs of one GitHub host: an app installation token when an app covers
    the URL's owner, else the integration's ``token`` (or none).

    ``clock`` (epoch seconds) dates the app JWTs and ages the cached tokens.
    """

    def __init__(
        self,
        integration: GithubIntegrationConfig,
        *,
        session: aiohttp.ClientSession,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._token = integration.token
        api_base_url = integration.api_base_url or ""
        self.mux = GithubAppCredentialsMux(
            [
                GithubAppManager(
                    GithubAppApi(app, api_base_url=api_base_url, session=session, clock=clock),
                    clock=clock,
                )
                for app in integration.apps
            ]
        )

    def __repr__(self) -> str:
        return f"SingleInstanceGithubCredentialsProvider(apps={len(self.mux.apps)})"

    async def get_credentials(self, url: str) -> GithubCredentials:
        """Credentials for ``https://<host>/<owner>[/<repo>/...]``."""
        segments = path_segments(split_url(url))
        owner = segments[0] if segments else ""
        repo = segments[1].removesuffix(".git") if len(segments) > 1 else None
        token = await self.mux.get_app_token(owner, repo) if owner else None
        if token:
            return GithubCredentials(token, "app")
        return GithubCredentials(self._token, "token")
