"""External access: legacy shared-secret tokens and third-party JWKS issuers."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from _support.http import request
from aiohttp import web
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey

from ._support import real_auth_backend, whoami_plugin

pytestmark = pytest.mark.anyio

SECRET = b"a shared secret of thirty-two bytes!"
ISSUER_KEY = ECKey.generate_key("P-256", parameters={"kid": str(uuid.uuid4())})


def legacy_token(secret: bytes = SECRET, **claims: Any) -> str:
    now = int(time.time())
    body = {"sub": "backstage-server", "exp": now + 60, **claims}
    return jwt.encode({"alg": "HS256"}, body, OctKey.import_key(secret), algorithms=["HS256"])


@asynccontextmanager
async def idp_server() -> AsyncIterator[str]:
    """A third-party identity provider publishing its JWKS; yields the JWKS URL."""

    async def jwks(_request: web.Request) -> web.Response:
        return web.json_response(KeySet([ISSUER_KEY]).as_dict(private=False))

    app = web.Application()
    app.router.add_get("/jwks.json", jwks)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/jwks.json"
    finally:
        await runner.cleanup()


def idp_token(**claims: Any) -> str:
    now = int(time.time())
    body = {"iss": "https://idp", "aud": "backstage", "sub": "ci-runner", "exp": now + 60, **claims}
    return jwt.encode({"alg": "ES256", "kid": ISSUER_KEY.kid}, body, ISSUER_KEY)


def config(jwks_url: str = "http://placeholder") -> dict[str, Any]:
    return {
        "backend": {
            "auth": {
                "externalAccess": [
                    {
                        "type": "legacy",
                        "options": {
                            "secret": base64.b64encode(SECRET).decode(),
                            "subject": "legacy-caller",
                        },
                    },
                    {
                        "type": "jwks",
                        "options": {
                            "url": jwks_url,
                            "issuer": "https://idp",
                            "audience": "backstage",
                            "subjectPrefix": "idp",
                        },
                    },
                ]
            }
        }
    }


async def test_legacy_tokens_verify_with_the_shared_secret() -> None:
    async with real_auth_backend([whoami_plugin("alpha")], config()) as test:
        url = await test.url("/api/alpha/whoami")
        good = await request("GET", url, headers={"Authorization": f"Bearer {legacy_token()}"})
        wrong_secret = await request(
            "GET",
            url,
            headers={"Authorization": f"Bearer {legacy_token(b'another secret of 32 bytes!!!!')}"},
        )
        with_audience = await request(
            "GET", url, headers={"Authorization": f"Bearer {legacy_token(aud='x')}"}
        )
        expired = await request(
            "GET", url, headers={"Authorization": f"Bearer {legacy_token(exp=1)}"}
        )

    assert good.json() == {"principal": {"type": "service", "subject": "legacy-caller"}}
    assert wrong_secret.status == with_audience.status == expired.status == 401


async def test_jwks_issuers_are_verified_with_issuer_audience_and_prefix() -> None:
    async with (
        idp_server() as jwks_url,
        real_auth_backend([whoami_plugin("alpha")], config(jwks_url)) as test,
    ):
        url = await test.url("/api/alpha/whoami")
        good = await request("GET", url, headers={"Authorization": f"Bearer {idp_token()}"})
        wrong_issuer = await request(
            "GET", url, headers={"Authorization": f"Bearer {idp_token(iss='https://evil')}"}
        )
        wrong_audience = await request(
            "GET", url, headers={"Authorization": f"Bearer {idp_token(aud='other')}"}
        )
        unsigned = await request(
            "GET",
            url,
            headers={"Authorization": f"Bearer {idp_token().rsplit('.', 1)[0]}."},
        )

    assert good.json() == {"principal": {"type": "service", "subject": "external:idp:ci-runner"}}
    assert wrong_issuer.status == wrong_audience.status == unsigned.status == 401
