"""Plugin-to-plugin tokens: issued with per-plugin keys, published as JWKS, verified by the
receiving plugin through discovery.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from _support.http import request

from backstage_runtime.api import core_services

from ._support import real_auth_backend, whoami_plugin

pytestmark = pytest.mark.anyio


def _decode(part: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


async def test_a_plugin_calls_another_with_a_plugin_token() -> None:
    async with real_auth_backend([whoami_plugin("alpha"), whoami_plugin("beta")]) as test:
        reply = await request("GET", await test.url("/api/alpha/call/beta"))
        jwks = await request("GET", await test.url("/api/alpha/.backstage/auth/v1/jwks.json"))
        auth = await test.get_service(core_services.auth, "alpha")
        token = await auth.get_plugin_request_token(
            on_behalf_of=await auth.get_own_service_credentials(), target_plugin_id="beta"
        )

    assert reply.json() == {
        "status": 200,
        "body": {"principal": {"type": "service", "subject": "plugin:alpha"}},
    }
    keys = jwks.json()["keys"]
    assert len(keys) == 1
    assert list(keys[0]) == ["kty", "x", "y", "crv", "kid", "alg"]
    assert keys[0]["crv"] == "P-256"
    assert keys[0]["alg"] == "ES256"
    header, payload, _signature = token.token.split(".")
    assert _decode(header) == {"typ": "vnd.backstage.plugin", "alg": "ES256", "kid": keys[0]["kid"]}
    claims = _decode(payload)
    assert (claims["sub"], claims["aud"], claims["exp"] - claims["iat"]) == ("alpha", "beta", 3600)


async def test_the_jwks_is_public_and_empty_before_any_token() -> None:
    async with real_auth_backend([whoami_plugin("alpha")]) as test:
        jwks = await request("GET", await test.url("/api/alpha/.backstage/auth/v1/jwks.json"))
        other = await request("GET", await test.url("/api/alpha/.backstage/auth/v1/jwks"))

    assert (jwks.status, jwks.json()) == (200, {"keys": []})
    assert other.status == 401  # a normal route: needs credentials
    assert other.json()["error"] == {
        "name": "AuthenticationError",
        "message": "Missing credentials",
    }


async def test_keys_survive_a_restart_in_the_database(tmp_path: Path) -> None:
    config = {
        "backend": {"database": {"client": "sqlite", "connection": {"directory": str(tmp_path)}}}
    }
    async with real_auth_backend([whoami_plugin("alpha"), whoami_plugin("beta")], config) as first:
        auth = await first.get_service(core_services.auth, "alpha")
        token = await auth.get_plugin_request_token(
            on_behalf_of=await auth.get_own_service_credentials(), target_plugin_id="beta"
        )
        kid = (await auth.list_public_service_keys())[0]["kid"]

    async with real_auth_backend([whoami_plugin("alpha"), whoami_plugin("beta")], config) as second:
        jwks = await request("GET", await second.url("/api/alpha/.backstage/auth/v1/jwks.json"))
        # The old token, signed by the previous process's key, still verifies.
        reply = await request(
            "GET",
            await second.url("/api/beta/whoami"),
            headers={"Authorization": f"Bearer {token.token}"},
        )

    assert [key["kid"] for key in jwks.json()["keys"]] == [kid]
    assert reply.json() == {"principal": {"type": "service", "subject": "plugin:alpha"}}


async def test_rotated_keys_keep_verifying_until_they_expire() -> None:
    async with real_auth_backend([whoami_plugin("alpha"), whoami_plugin("beta")]) as test:
        auth = await test.get_service(core_services.auth, "alpha")
        own = await auth.get_own_service_credentials()
        first = await auth.get_plugin_request_token(on_behalf_of=own, target_plugin_id="beta")
        # Make the hourly rotation due now instead of waiting an hour.
        # (reaches into the default AuthService implementation, which the protocol does not name)
        auth._keys._renew_at = 0  # type: ignore[attr-defined]
        second = await auth.get_plugin_request_token(on_behalf_of=own, target_plugin_id="beta")
        kids = [key["kid"] for key in await auth.list_public_service_keys()]
        url = await test.url("/api/beta/whoami")
        old = await request("GET", url, headers={"Authorization": f"Bearer {first.token}"})
        new = await request("GET", url, headers={"Authorization": f"Bearer {second.token}"})

    assert len(set(kids)) == 2
    assert first.token.split(".")[0] != second.token.split(".")[0]  # different kid
    assert old.status == new.status == 200


async def test_a_verified_token_is_refused_once_it_expires() -> None:
    from _support.polling import eventually

    from backstage_runtime.defaults.auth import auth_service_factory
    from backstage_runtime.defaults.http_auth import http_auth_service_factory
    from backstage_runtime.testing import start_test_backend

    features = [
        whoami_plugin("alpha"),
        whoami_plugin("beta"),
        # Tokens live three seconds; `iat` is whole seconds, so at least two remain when issued.
        auth_service_factory(key_duration=3),
        http_auth_service_factory(),
    ]
    async with start_test_backend(features=features) as test:
        auth = await test.get_service(core_services.auth, "alpha")
        token = await auth.get_plugin_request_token(
            on_behalf_of=await auth.get_own_service_credentials(), target_plugin_id="beta"
        )
        url = await test.url("/api/beta/whoami")
        headers = {"Authorization": f"Bearer {token.token}"}
        first = await request("GET", url, headers=headers)
        second = await request("GET", url, headers=headers)  # served from the verified cache

        async def refused() -> bool:
            return (await request("GET", url, headers=headers)).status == 401

        await eventually(refused, timeout=10)

    assert first.status == second.status == 200
