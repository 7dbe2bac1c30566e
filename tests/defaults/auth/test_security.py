"""Every rejected token gets 401/403 with Backstage's error JSON, never a 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import pytest
from _support.http import request
from joserfc import jwt
from joserfc.jwk import ECKey

from backstage_runtime.api import core_services

from ._support import USER_KEY, fake_auth_backend, real_auth_backend, user_token, whoami_plugin

pytestmark = pytest.mark.anyio

STATIC_TOKEN = "static-token-0123456789"
RESTRICTED_TOKEN = "restricted-token-0123456789"
CONFIG = {
    "backend": {
        "auth": {
            "externalAccess": [
                {"type": "static", "options": {"token": STATIC_TOKEN, "subject": "bench-client"}},
                {
                    "type": "static",
                    "options": {"token": RESTRICTED_TOKEN, "subject": "restricted"},
                    "accessRestrictions": [{"plugin": "alpha"}],
                },
            ]
        }
    }
}


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


async def _plugin_token(test: Any, target: str = "beta") -> str:
    auth = await test.get_service(core_services.auth, "alpha")
    own = await auth.get_own_service_credentials()
    token = await auth.get_plugin_request_token(on_behalf_of=own, target_plugin_id=target)
    return str(token.token)


async def _public_jwk(test: Any) -> dict[str, Any]:
    auth = await test.get_service(core_services.auth, "alpha")
    return dict((await auth.list_public_service_keys())[0])


def _forge(header: dict[str, Any], claims: dict[str, Any], signature: str = "") -> str:
    return f"{_b64(header)}.{_b64(claims)}.{signature}"


async def _attacks(test: Any) -> dict[str, tuple[str, str]]:
    """name -> (path, token); every one must be refused."""
    good = await _plugin_token(test)
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    now = int(time.time())
    jwk = await _public_jwk(test)
    plugin_header = {"typ": "vnd.backstage.plugin", "alg": "ES256", "kid": jwk["kid"]}
    # Algorithm confusion: an HMAC signed with the public key's bytes, announced as HS256.
    public_pem = ECKey.import_key(jwk).as_pem(private=False)
    signing_input = f"{_b64({**plugin_header, 'alg': 'HS256'})}.{payload}".encode()
    mac = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    confused = f"{signing_input.decode()}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    other_key = ECKey.generate_key("P-256", parameters={"kid": jwk["kid"]})
    return {
        "alg none": ("/whoami", _forge({**plugin_header, "alg": "none"}, claims)),
        "HS256 with the public key": ("/whoami", confused),
        "expired": ("/whoami", jwt.encode(plugin_header, {**claims, "exp": now - 10}, other_key)),
        "wrong signer": ("/whoami", jwt.encode(plugin_header, claims, other_key)),
        "not yet valid": (
            "/whoami",
            jwt.encode(plugin_header, {**claims, "nbf": now + 600}, other_key),
        ),
        "wrong audience": ("/whoami", await _plugin_token(test, target="gamma")),
        "tampered payload": (
            "/whoami",
            f"{header}.{_b64({**claims, 'sub': 'beta'})}.{signature}",
        ),
        "unknown kid": (
            "/whoami",
            jwt.encode({**plugin_header, "kid": str(uuid.uuid4())}, claims, other_key),
        ),
        "forbidden subject": (
            "/whoami",
            _forge({**plugin_header}, {**claims, "sub": "../evil"}, signature),
        ),
        "user token with a foreign key": (
            "/whoami",
            user_token(key=ECKey.generate_key("P-256", parameters={"kid": str(USER_KEY.kid)})),
        ),
        "expired user token": ("/whoami", user_token(lifetime=-10)),
        "user token where only services are allowed": ("/service-only", user_token()),
        "limited user token where not allowed": (
            "/whoami",
            user_token(typ="vnd.backstage.limited-user", with_proof=False),
        ),
        "garbage": ("/whoami", "not-a-token-at-all"),
        "three garbage parts": ("/whoami", "a.b.c"),
        "oversized": ("/whoami", "x" * 12_000),
        "static token outside its restrictions": ("/whoami", RESTRICTED_TOKEN),
        "unknown static token": ("/whoami", "static-token-0123456780"),
    }


async def test_every_bad_token_is_refused_with_backstage_error_json() -> None:
    features = [whoami_plugin("alpha"), whoami_plugin("beta"), fake_auth_backend()]
    async with real_auth_backend(features, CONFIG) as test:
        attacks = await _attacks(test)
        replies = {
            name: await request(
                "GET",
                await test.url(f"/api/beta{path}"),
                headers={"Authorization": f"Bearer {token}"},
            )
            for name, (path, token) in attacks.items()
        }

    for name, reply in replies.items():
        assert reply.status in (401, 403), f"{name}: {reply.status} {reply.body[:200]!r}"
        body = reply.json()
        assert set(body) == {"error", "request", "response"}, name
        assert body["response"] == {"statusCode": reply.status}, name
        assert "stack" not in body["error"], name
    assert replies["static token outside its restrictions"].json()["error"] == {
        "name": "NotAllowedError",
        "message": "This token's access is restricted to plugin(s) 'alpha'",
    }
    assert replies["user token where only services are allowed"].json()["error"] == {
        "name": "NotAllowedError",
        "message": "This endpoint does not allow 'user' credentials",
    }
    assert replies["limited user token where not allowed"].json()["error"]["name"] == (
        "AuthenticationError"
    )


async def test_valid_tokens_of_every_kind_are_accepted() -> None:
    features = [whoami_plugin("alpha"), whoami_plugin("beta"), fake_auth_backend()]
    async with real_auth_backend(features, CONFIG) as test:
        url = await test.url("/api/beta/whoami")
        plugin = await request(
            "GET", url, headers={"Authorization": f"Bearer {await _plugin_token(test)}"}
        )
        user = await request("GET", url, headers={"Authorization": f"bearer {user_token()}"})
        static = await request("GET", url, headers={"Authorization": f"Bearer {STATIC_TOKEN}"})
        restricted = await request(
            "GET",
            await test.url("/api/alpha/whoami"),
            headers={"Authorization": f"Bearer {RESTRICTED_TOKEN}"},
        )
        anonymous = await request("GET", url)

    assert plugin.json() == {"principal": {"type": "service", "subject": "plugin:alpha"}}
    assert user.json() == {"principal": {"type": "user", "userEntityRef": "user:default/jane"}}
    assert static.json() == {"principal": {"type": "service", "subject": "bench-client"}}
    assert restricted.json() == {
        "principal": {"type": "service", "subject": "restricted", "accessRestrictions": {}}
    }
    assert (anonymous.status, anonymous.json()["error"]["message"]) == (401, "Missing credentials")


async def test_a_down_or_slow_jwks_endpoint_is_a_401_not_a_500() -> None:
    features = [whoami_plugin("beta")]
    config = {
        "discovery": {
            "endpoints": [
                {"target": "http://127.0.0.1:9/api/{{pluginId}}", "plugins": ["ghost", "auth"]}
            ]
        }
    }
    async with real_auth_backend(features, config) as test:
        now = int(time.time())
        key = ECKey.generate_key("P-256", parameters={"kid": "k"})
        from_ghost = jwt.encode(
            {"typ": "vnd.backstage.plugin", "alg": "ES256", "kid": "k"},
            {"sub": "ghost", "aud": "beta", "iat": now, "exp": now + 60},
            key,
        )
        url = await test.url("/api/beta/whoami")
        plugin = await request("GET", url, headers={"Authorization": f"Bearer {from_ghost}"})
        user = await request("GET", url, headers={"Authorization": f"Bearer {user_token()}"})

    assert (plugin.status, plugin.json()["error"]["name"]) == (401, "AuthenticationError")
    assert (user.status, user.json()["error"]) == (
        401,
        {"name": "AuthenticationError", "message": "Failed user token verification"},
    )


async def test_a_plugin_acting_for_a_user_carries_the_limited_token() -> None:
    features = [whoami_plugin("alpha"), whoami_plugin("beta"), fake_auth_backend()]
    async with real_auth_backend(features, CONFIG) as test:
        auth = await test.get_service(core_services.auth, "alpha")
        user = await auth.authenticate(user_token())
        token = await auth.get_plugin_request_token(on_behalf_of=user, target_plugin_id="beta")
        reply = await request(
            "GET",
            await test.url("/api/beta/whoami"),
            headers={"Authorization": f"Bearer {token.token}"},
        )

    assert reply.json() == {
        "principal": {
            "type": "user",
            "userEntityRef": "user:default/jane",
            "actor": {"type": "service", "subject": "plugin:alpha"},
        }
    }
