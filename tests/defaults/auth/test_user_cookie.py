"""The user cookie: issued as a limited user token, accepted where limited access is allowed."""

from __future__ import annotations

import base64
import json

import pytest
from _support.http import request

from ._support import fake_auth_backend, real_auth_backend, user_token, whoami_plugin

pytestmark = pytest.mark.anyio

COOKIE_PATH = "/api/alpha/.backstage/auth/v1/cookie"


async def test_the_cookie_is_issued_refreshed_honoured_and_cleared() -> None:
    token = user_token()
    async with real_auth_backend([whoami_plugin("alpha"), fake_auth_backend()]) as test:
        issued = await request(
            "GET", await test.url(COOKIE_PATH), headers={"Authorization": f"Bearer {token}"}
        )
        cookie_value = issued.headers["Set-Cookie"].split(";", 1)[0].split("=", 1)[1]
        cookie = {"Cookie": f"backstage-auth={cookie_value}"}
        refreshed = await request("GET", await test.url(COOKIE_PATH), headers=cookie)
        full_route = await request("GET", await test.url("/api/alpha/whoami"), headers=cookie)
        service = await request(
            "GET",
            await test.url(COOKIE_PATH),
            headers={"Authorization": "Bearer static-not-configured"},
        )
        cleared = await request("DELETE", await test.url(COOKIE_PATH), headers=cookie)

    assert issued.status == 200
    assert issued.json()["expiresAt"].endswith("Z")
    attributes = [part.strip() for part in issued.headers["Set-Cookie"].split(";")]
    assert "HttpOnly" in attributes
    assert "Secure" in attributes  # localhost counts as secure, as in Backstage
    assert "SameSite=None" in attributes
    assert "Domain=localhost" in attributes
    assert "Priority=High" in attributes
    # The cookie is the limited user token: auth-backend's pre-signed proof is its signature.
    _header, _payload, proof = cookie_value.split(".")
    user_claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert proof == user_claims["uip"]
    # The cookie itself refreshes the cookie; still valid for long, so nothing new is set.
    assert refreshed.status == 200
    assert "Set-Cookie" not in refreshed.headers
    # Routes without a user-cookie policy do not read the cookie.
    assert full_route.status == 401
    assert service.status == 401
    assert cleared.status == 204
    assert "backstage-auth=;" in cleared.headers["Set-Cookie"].replace('""', "")


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("backstage-auth=abc.def.ghi", "abc.def.ghi"),
        ('theme="dark,blue"; backstage-auth=abc', "abc"),  # SimpleCookie gave up on the header
        ('backstage-auth="quoted"', "quoted"),
        ("a=1;backstage-auth=x%2Fy", "x/y"),
        ("backstage-auth=%E0%A4%A", "%E0%A4%A"),  # an undecodable escape is kept as it is
        ("other=1", None),
        ("backstage-auth=", None),
        ("backstage-auth", None),
    ],
)
def test_the_user_cookie_is_read_as_express_reads_cookies(header: str, token: str | None) -> None:
    from backstage_runtime.defaults.http_auth._http_auth import _cookie_token

    scope = {"type": "http", "headers": [(b"cookie", header.encode("latin-1"))]}
    assert _cookie_token(scope) == token
