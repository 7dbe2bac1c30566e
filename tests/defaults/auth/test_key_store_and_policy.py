"""Static signing keys from files, and turning the default auth policy off."""

from __future__ import annotations

from pathlib import Path

import pytest
from _support.http import request
from joserfc.jwk import ECKey

from backstage_runtime.api import core_services
from backstage_runtime.api.errors import BackendStartupError

from ._support import real_auth_backend, whoami_plugin

pytestmark = pytest.mark.anyio


async def test_static_keys_sign_and_are_published(tmp_path: Path) -> None:
    key = ECKey.generate_key("P-256")
    (tmp_path / "private.pem").write_bytes(key.as_pem(private=True))
    (tmp_path / "public.pem").write_bytes(key.as_pem(private=False))
    config = {
        "backend": {
            "auth": {
                "pluginKeyStore": {
                    "type": "static",
                    "static": {
                        "keys": [
                            {
                                "keyId": "static-1",
                                "publicKeyFile": str(tmp_path / "public.pem"),
                                "privateKeyFile": str(tmp_path / "private.pem"),
                            }
                        ]
                    },
                }
            }
        }
    }
    async with real_auth_backend([whoami_plugin("alpha"), whoami_plugin("beta")], config) as test:
        jwks = await request("GET", await test.url("/api/alpha/.backstage/auth/v1/jwks.json"))
        call = await request("GET", await test.url("/api/alpha/call/beta"))

    assert [(k["kid"], k["x"]) for k in jwks.json()["keys"]] == [
        ("static-1", key.as_dict(private=False)["x"])
    ]
    assert call.json()["body"] == {"principal": {"type": "service", "subject": "plugin:alpha"}}


async def test_a_static_key_store_without_a_private_key_is_a_config_error(tmp_path: Path) -> None:
    key = ECKey.generate_key("P-256")
    (tmp_path / "public.pem").write_bytes(key.as_pem(private=False))
    config = {
        "backend": {
            "auth": {
                "pluginKeyStore": {
                    "type": "static",
                    "static": {
                        "keys": [{"keyId": "k", "publicKeyFile": str(tmp_path / "public.pem")}]
                    },
                }
            }
        }
    }
    with pytest.raises(BackendStartupError) as caught:
        async with real_auth_backend([whoami_plugin("alpha")], config):
            pass
    assert (
        "caused by ConfigError: The first key at backend.auth.pluginKeyStore.static.keys must "
        "have a privateKeyFile" in str(caught.value)
    )


async def test_disabling_the_default_policy_lets_anonymous_callers_in() -> None:
    config = {"backend": {"auth": {"dangerouslyDisableDefaultAuthPolicy": True}}}
    async with real_auth_backend([whoami_plugin("alpha")], config) as test:
        reply = await request("GET", await test.url("/api/alpha/whoami"))
        auth = await test.get_service(core_services.auth, "alpha")
        none = await auth.get_none_credentials()
        token = await auth.get_plugin_request_token(on_behalf_of=none, target_plugin_id="beta")

    assert reply.json() == {"principal": {"type": "none"}}
    assert token.token == ""
