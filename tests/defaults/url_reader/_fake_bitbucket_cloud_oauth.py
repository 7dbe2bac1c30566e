"""Bitbucket Cloud's OAuth token endpoint (client credentials grant) for the fake Bitbucket Cloud.

Each token it issues replaces the one the fake API accepts, so a reader still sending an older
token is refused.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ._fake_bitbucket import BitbucketState, bitbucket_cloud_routes
from ._server import LocalServer, serve

TOKEN_PATH = "/site/oauth2/access_token"


@dataclass
class OAuthState:
    bitbucket: BitbucketState
    client_id: str
    client_secret: str
    expires_in: int | None = 7200  # Bitbucket's tokens live two hours
    fail_with: int | None = None  # answer this status instead of a token
    omit_access_token: bool = False
    forms: list[dict[str, str]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


def oauth_routes(state: OAuthState) -> web.RouteTableDef:
    routes = web.RouteTableDef()

    @routes.post(TOKEN_PATH)
    async def access_token(request: web.Request) -> web.Response:
        form = {key: str(value) for key, value in (await request.post()).items()}
        state.forms.append(form)
        if state.fail_with is not None:
            return web.json_response({"error": "temporarily_unavailable"}, status=state.fail_with)
        pair = base64.b64encode(f"{state.client_id}:{state.client_secret}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {pair}":
            return web.json_response({"error": "invalid_client"}, status=401)
        if form != {"grant_type": "client_credentials"}:
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        token = f"bb-oauth-access-{next(state._serial)}"
        state.issued.append(token)
        state.bitbucket.authorization = f"Bearer {token}"
        body: dict[str, Any] = {"token_type": "bearer", "scopes": "repository"}
        if not state.omit_access_token:
            body["access_token"] = token
        if state.expires_in is not None:
            body["expires_in"] = state.expires_in
        return web.json_response(body)

    return routes


@asynccontextmanager
async def fake_bitbucket_cloud_with_oauth(state: OAuthState) -> AsyncIterator[LocalServer]:
    """The API (``/2.0``), archive downloads and the token endpoint on one local server."""
    async with serve([*bitbucket_cloud_routes(state.bitbucket), *oauth_routes(state)]) as server:
        yield server
