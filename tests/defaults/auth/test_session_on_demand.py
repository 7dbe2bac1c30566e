"""The auth service builds the backend's aiohttp session for its first JWKS fetch, not at start."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from _support.http import request

from backstage_runtime.api import create_service_factory, runtime_services

from ._support import fake_auth_backend, real_auth_backend, user_token, whoami_plugin

pytestmark = pytest.mark.anyio


async def test_the_session_is_built_by_the_first_user_token_verification() -> None:
    sessions: list[aiohttp.ClientSession] = []

    async def recording_session() -> AsyncIterator[aiohttp.ClientSession]:
        async with aiohttp.ClientSession() as session:
            sessions.append(session)
            yield session

    http_client = create_service_factory(
        service=runtime_services.http_client, factory=recording_session, initialization="lazy"
    )
    features = [whoami_plugin("alpha"), fake_auth_backend(), http_client]
    async with real_auth_backend(features) as test:
        assert sessions == []
        url = await test.url("/api/alpha/whoami")
        first = await request("GET", url, headers={"Authorization": f"Bearer {user_token()}"})
        again = await request("GET", url, headers={"Authorization": f"Bearer {user_token()}"})

    assert first.json() == {"principal": {"type": "user", "userEntityRef": "user:default/jane"}}
    assert again.status == 200
    assert len(sessions) == 1
    assert sessions[0].closed
