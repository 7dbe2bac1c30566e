"""GitHub's App endpoints for the fake GitHub: installations, installation tokens, and the
repositories a token may read. App JWTs are verified with the app's public key; repository
calls are authorised by the token's installation (owner, selected repositories, expiry).
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from ._fake_github import GithubState, github_routes
from ._server import LocalServer, serve

PREVIEW_ACCEPT = "application/vnd.github.machine-man-preview+json"


def rsa_key_pair() -> tuple[str, RSAKey]:
    """A fresh app key: its PEM (for config) and its public half (for the fake)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, RSAKey.import_key(public)


@dataclass
class FakeInstallation:
    id: int
    owner: str
    suspended: bool = False
    repositories: list[str] | None = None  # "selected" repositories; None means all


@dataclass
class FakeApp:
    app_id: int
    public_key: RSAKey
    installations: list[FakeInstallation]


@dataclass
class Issued:
    token: str
    app_id: int
    installation: FakeInstallation
    expires_at: float


@dataclass
class AppsState:
    apps: list[FakeApp]
    clock: Callable[[], float] = time.time
    token_lifetime: float = 3600
    page_size: int = 100
    rate_limited: bool = False
    static_tokens: set[str] = field(default_factory=set)  # personal tokens that read anything
    public_owners: set[str] = field(default_factory=set)  # repositories anyone may read
    issued: dict[str, Issued] = field(default_factory=dict)
    token_requests: list[tuple[int, int]] = field(default_factory=list)  # (app, installation)
    listings: list[int] = field(default_factory=list)  # app ids that listed installations
    jwt_claims: list[dict[str, Any]] = field(default_factory=list)
    accept_headers: list[str] = field(default_factory=list)
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def tokens_for(self, owner: str) -> list[str]:
        return [t for t, i in self.issued.items() if i.installation.owner == owner]

    def authorize(self, request: web.Request) -> bool:
        """Whether the request may read ``/repos/<owner>/<repo>/...``."""
        owner = request.match_info["owner"].lower()
        repo = request.match_info["repo"].lower()
        header = request.headers.get("Authorization")
        if header is None:
            return owner in self.public_owners
        token = header.removeprefix("Bearer ")
        if token in self.static_tokens:
            return True
        issued = self.issued.get(token)
        if issued is None or self.clock() >= issued.expires_at:
            return False
        if owner in self.public_owners:
            return True  # any installation token reads public repositories
        installation = issued.installation
        return installation.owner.lower() == owner and (
            installation.repositories is None
            or repo in (name.lower() for name in installation.repositories)
        )


def _unauthorized(message: str) -> web.HTTPUnauthorized:
    return web.HTTPUnauthorized(
        text=json.dumps({"message": message}), content_type="application/json"
    )


def _verify_app_jwt(state: AppsState, request: web.Request) -> FakeApp:
    if state.rate_limited:
        raise web.HTTPForbidden(
            text='{"message": "API rate limit exceeded"}',
            content_type="application/json",
            headers={"x-ratelimit-remaining": "0"},
        )
    state.accept_headers.append(request.headers.get("Accept", ""))
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    try:
        payload = token.split(".")[1]
        unverified = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        raise _unauthorized("A JSON web token could not be decoded") from None
    app = next((a for a in state.apps if a.app_id == unverified.get("iss")), None)
    if app is None:
        raise _unauthorized("Integration not found")
    try:
        decoded = jwt.decode(token, app.public_key, algorithms=["RS256"])
    except JoseError:
        raise _unauthorized("A JSON web token could not be decoded") from None
    claims = decoded.claims
    now = state.clock()
    if decoded.header.get("alg") != "RS256" or not claims["iat"] <= now < claims["exp"]:
        raise _unauthorized("'Issued at' claim (iat) must be an Integer in the past")
    if claims["exp"] - now > 600:
        raise _unauthorized("'Expiration time' claim ('exp') is too far in the future")
    state.jwt_claims.append(dict(claims))
    return app


def _page(request: web.Request, items: list[Any], size: int, base: str) -> tuple[list[Any], str]:
    page = int(request.query.get("page", "1"))
    chunk = items[(page - 1) * size : page * size]
    link = ""
    if page * size < len(items):
        link = f'<{base}{request.path}?per_page={size}&page={page + 1}>; rel="next"'
    return chunk, link


def apps_routes(state: AppsState, base: list[str]) -> web.RouteTableDef:
    routes = web.RouteTableDef()

    @routes.get("/app/installations")
    async def installations(request: web.Request) -> web.Response:
        app = _verify_app_jwt(state, request)
        state.listings.append(app.app_id)
        items = [
            {
                "id": installation.id,
                "account": {"login": installation.owner},
                "suspended_by": {"login": "admin"} if installation.suspended else None,
            }
            for installation in app.installations
        ]
        chunk, link = _page(request, items, state.page_size, base[0])
        return web.json_response(chunk, headers={"Link": link} if link else {})

    @routes.post("/app/installations/{id}/access_tokens")
    async def access_tokens(request: web.Request) -> web.Response:
        app = _verify_app_jwt(state, request)
        wanted = int(request.match_info["id"])
        installation = next((i for i in app.installations if i.id == wanted), None)
        if installation is None:
            raise web.HTTPNotFound(text='{"message": "Not Found"}', content_type="application/json")
        state.token_requests.append((app.app_id, installation.id))
        token = f"ghs_app{app.app_id}_inst{installation.id}_{next(state._serial)}"
        expires_at = state.clock() + state.token_lifetime
        state.issued[token] = Issued(token, app.app_id, installation, expires_at)
        return web.json_response(
            {
                "token": token,
                "expires_at": datetime.fromtimestamp(expires_at, UTC).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                ),
                "repository_selection": "all" if installation.repositories is None else "selected",
            },
            status=201,
        )

    @routes.get("/installation/repositories")
    async def repositories(request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        issued = state.issued.get(token)
        if issued is None:
            raise _unauthorized("Bad credentials")
        owner = issued.installation.owner
        names = issued.installation.repositories or []
        items = [{"name": name, "full_name": f"{owner}/{name}"} for name in names]
        chunk, link = _page(request, items, state.page_size, base[0])
        return web.json_response(
            {"total_count": len(items), "repositories": chunk},
            headers={"Link": link} if link else {},
        )

    return routes


@asynccontextmanager
async def fake_github_with_apps(github: GithubState, apps: AppsState) -> AsyncIterator[LocalServer]:
    """One server for the REST API: repositories (authorised by ``apps``) and the App endpoints."""
    base: list[str] = [""]
    github.authorize = apps.authorize
    async with serve([*github_routes(github, base), *apps_routes(apps, base)]) as server:
        base[0] = server.base
        yield server
