"""Every form of ``mock_credentials`` Backstage has, accepted or refused by the mock auth of a
real test backend as Backstage's mock auth does.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from quart import Blueprint, request

from backstage_runtime import (
    BackstageCredentials,
    BackstageServicePrincipal,
    BackstageUserPrincipal,
    HttpAuthService,
    core_services,
    create_backend_plugin,
)
from backstage_runtime.testing import (
    MOCK_SERVICE_SUBJECT,
    MOCK_USER_ENTITY_REF,
    mock_credentials,
    start_test_backend,
)

pytestmark = pytest.mark.anyio


def _whoami_plugin() -> Any:
    def register(env: Any) -> None:
        def init(http: Any, http_auth: HttpAuthService) -> None:
            routes = Blueprint("whoami", __name__)

            @routes.get("/me")
            async def me() -> Any:
                credentials = await http_auth.credentials(request)
                return credentials.principal.to_json()

            @routes.get("/cookie")
            async def cookie() -> Any:
                credentials = await http_auth.credentials(request, allow_limited_access=True)
                return credentials.principal.to_json()

            http.use(routes)
            http.add_auth_policy(path="/cookie", allow="user-cookie")

        env.register_init(
            deps={"http": core_services.http_router, "http_auth": core_services.http_auth},
            init=init,
        )

    return create_backend_plugin(plugin_id="whoami", register=register)


async def _get(path: str, headers: dict[str, str]) -> tuple[int, Any]:
    async with (
        start_test_backend(features=[_whoami_plugin()]) as test,
        aiohttp.ClientSession() as session,
        session.get(await test.url(f"/api/whoami{path}"), headers=headers) as response,
    ):
        return response.status, await response.json()


async def test_a_limited_user_cookie_is_read_where_limited_access_is_allowed() -> None:
    status, body = await _get(
        "/cookie", mock_credentials.limited_user.cookie_headers("user:default/ada")
    )
    assert (status, body) == (200, {"type": "user", "userEntityRef": "user:default/ada"})


async def test_an_invalid_limited_user_cookie_is_refused() -> None:
    status, body = await _get("/cookie", {"Cookie": mock_credentials.limited_user.invalid_cookie()})
    assert status == 401
    assert body["error"]["name"] == "AuthenticationError"


async def test_a_limited_user_token_is_refused_where_limited_access_is_not_allowed() -> None:
    status, _ = await _get("/me", mock_credentials.limited_user.headers("user:default/ada"))
    assert status == 401


async def test_a_service_token_for_this_plugin_is_accepted_and_for_another_refused() -> None:
    status, body = await _get("/me", mock_credentials.service.headers(target_plugin_id="whoami"))
    assert (status, body) == (200, {"type": "service", "subject": "external:test-service"})
    status, body = await _get("/me", mock_credentials.service.headers(target_plugin_id="catalog"))
    assert status == 401
    assert body["error"]["message"] == (
        "Invalid mock token target plugin ID, got 'catalog' but expected 'whoami'"
    )


async def test_a_service_token_on_behalf_of_a_user_authenticates_as_that_user() -> None:
    user = mock_credentials.user("user:default/ada")
    status, body = await _get(
        "/me", mock_credentials.service.headers(on_behalf_of=user, target_plugin_id="whoami")
    )
    assert (status, body) == (200, {"type": "user", "userEntityRef": "user:default/ada"})
    service = mock_credentials.service("plugin:catalog")
    status, body = await _get("/me", mock_credentials.service.headers(on_behalf_of=service))
    assert (status, body) == (200, {"type": "service", "subject": "plugin:catalog"})


async def test_a_user_acting_through_a_service_keeps_the_actor() -> None:
    status, body = await _get(
        "/me",
        {
            "Authorization": f"Bearer {mock_credentials.user.token('user:default/ada', actor='plugin:scaffolder')}"
        },
    )
    assert (status, body) == (
        200,
        {
            "type": "user",
            "userEntityRef": "user:default/ada",
            "actor": {"type": "service", "subject": "plugin:scaffolder"},
        },
    )
    credentials = mock_credentials.user("user:default/ada", actor="plugin:scaffolder")
    assert isinstance(credentials, BackstageCredentials)
    assert credentials.principal.to_json()["actor"] == {
        "type": "service",
        "subject": "plugin:scaffolder",
    }


@pytest.mark.parametrize("ref", ["ada", "user:ada", "user:/ada", ":default/ada"])
def test_a_malformed_user_entity_ref_is_refused_at_once(ref: str) -> None:
    with pytest.raises(TypeError, match="expected <kind>:<namespace>/<name>"):
        mock_credentials.user.token(ref)
    with pytest.raises(TypeError, match="expected <kind>:<namespace>/<name>"):
        mock_credentials.limited_user.cookie(ref)


def test_the_default_mock_user_and_service_are_exported_constants() -> None:
    assert MOCK_USER_ENTITY_REF == "user:default/mock"
    assert MOCK_SERVICE_SUBJECT == "external:test-service"
    assert mock_credentials.user().principal == BackstageUserPrincipal(MOCK_USER_ENTITY_REF)
    assert mock_credentials.service().principal == BackstageServicePrincipal(MOCK_SERVICE_SUBJECT)


def test_typed_credentials_are_still_plain_credentials() -> None:
    # The type parameter is for the type checker: equality and isinstance are unchanged.
    user = mock_credentials.user("user:default/ada")
    plain = BackstageCredentials(principal=BackstageUserPrincipal("user:default/ada"))
    typed = BackstageCredentials[BackstageUserPrincipal](
        principal=BackstageUserPrincipal("user:default/ada")
    )

    assert isinstance(user, BackstageCredentials)
    assert user.principal == plain.principal == typed.principal
    assert plain == typed
