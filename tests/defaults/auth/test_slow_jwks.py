"""A JWKS endpoint that hangs: verification gives up with a 401-class error, never hangs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import anyio
import pytest
from aiohttp import web

from backstage_runtime.api.errors import AuthenticationError
from backstage_runtime.defaults.auth._user_tokens import UserTokenHandler
from backstage_runtime.jose import JwksClient
from backstage_runtime.testing import mock_services

from ._support import user_token

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def hanging_server() -> AsyncIterator[str]:
    release = anyio.Event()

    async def jwks(_request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({"keys": []})

    app = web.Application()
    app.router.add_get("/api/auth/.well-known/jwks.json", jwks)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/api/auth"
    finally:
        release.set()
        await runner.cleanup()


class _Discovery:
    def __init__(self, base: str) -> None:
        self._base = base

    async def get_base_url(self, plugin_id: str) -> str:
        return self._base

    async def get_external_base_url(self, plugin_id: str) -> str:
        return self._base


async def test_a_hanging_jwks_endpoint_fails_verification_within_the_timeout() -> None:
    async with hanging_server() as base, aiohttp.ClientSession() as session:
        handler = UserTokenHandler(
            discovery=_Discovery(base),
            jwks=JwksClient(session, timeout=0.2),
            logger=mock_services.root_logger(),
        )
        with anyio.fail_after(5), pytest.raises(AuthenticationError) as caught:
            await handler.verify_token(user_token())
    assert str(caught.value) == "Failed user token verification"
