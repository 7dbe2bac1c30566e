"""Plugin authors test guarded routes with mock credentials: no keys, no auth backend."""

from __future__ import annotations

from typing import Any

import pytest
from _support.http import request
from quart import Blueprint
from quart import request as quart_request

from backstage_runtime.api import core_services, create_backend_plugin
from backstage_runtime.testing import mock_credentials, start_test_backend

pytestmark = pytest.mark.anyio


def guarded_plugin() -> Any:
    def register(env: Any) -> None:
        def init(http: Any, http_auth: Any) -> None:
            routes = Blueprint("guarded", __name__)

            @routes.get("/me")
            async def me() -> Any:
                credentials = await http_auth.credentials(quart_request)
                return {"principal": credentials.principal.to_json()}

            @routes.get("/services")
            async def services() -> Any:
                await http_auth.credentials(quart_request, allow=["service"])
                return {"ok": True}

            http.use(routes)

        env.register_init(
            deps={"http": core_services.http_router, "http_auth": core_services.http_auth},
            init=init,
        )

    return create_backend_plugin(plugin_id="guarded", register=register)


async def test_requests_without_a_header_are_the_mock_user() -> None:
    async with start_test_backend(features=[guarded_plugin()]) as test:
        default = await request("GET", await test.url("/api/guarded/me"))
        other_user = await request(
            "GET",
            await test.url("/api/guarded/me"),
            headers={"Authorization": mock_credentials.user.header("user:default/ada")},
        )
        service = await request(
            "GET",
            await test.url("/api/guarded/services"),
            headers={"Authorization": mock_credentials.service.header("plugin:catalog")},
        )
        anonymous = await request(
            "GET",
            await test.url("/api/guarded/me"),
            headers={"Authorization": mock_credentials.none.header()},
        )
        invalid = await request(
            "GET",
            await test.url("/api/guarded/me"),
            headers={"Authorization": mock_credentials.user.invalid_header()},
        )
        user_at_services = await request("GET", await test.url("/api/guarded/services"))

    assert default.json() == {"principal": {"type": "user", "userEntityRef": "user:default/mock"}}
    assert other_user.json()["principal"]["userEntityRef"] == "user:default/ada"
    assert service.json() == {"ok": True}
    assert (anonymous.status, anonymous.json()["error"]["message"]) == (401, "Missing credentials")
    assert invalid.status == 401
    assert (user_at_services.status, user_at_services.json()["error"]["message"]) == (
        403,
        "This endpoint does not allow 'user' credentials",
    )


async def test_mock_plugin_tokens_name_caller_and_target() -> None:
    async with start_test_backend(features=[guarded_plugin()]) as test:
        auth = await test.get_service(core_services.auth, "guarded")
        token = await auth.get_plugin_request_token(
            on_behalf_of=await auth.get_own_service_credentials(), target_plugin_id="guarded"
        )
        reply = await request(
            "GET",
            await test.url("/api/guarded/me"),
            headers={"Authorization": f"Bearer {token.token}"},
        )
    assert reply.json() == {"principal": {"type": "service", "subject": "plugin:guarded"}}


async def test_a_mock_plugin_token_on_behalf_of_a_user_authenticates_as_the_user() -> None:
    async with start_test_backend(features=[guarded_plugin()]) as test:
        auth = await test.get_service(core_services.auth, "guarded")
        token = await auth.get_plugin_request_token(
            on_behalf_of=mock_credentials.user("user:default/ada"), target_plugin_id="guarded"
        )
        reply = await request(
            "GET",
            await test.url("/api/guarded/me"),
            headers={"Authorization": f"Bearer {token.token}"},
        )
    assert reply.json() == {"principal": {"type": "user", "userEntityRef": "user:default/ada"}}


async def test_mock_services_cover_the_auth_family() -> None:
    from backstage_runtime.testing import mock_services

    auth = mock_services.auth("todo")
    user = await auth.authenticate(mock_credentials.user.token("user:default/ada"))
    info = await mock_services.user_info(ownership=["group:default/team"]).get_user_info(user)
    denied = await mock_services.permissions("DENY").authorize([{}, {}], credentials=user)
    own = await auth.get_own_service_credentials()

    assert user.principal.to_json() == {"type": "user", "userEntityRef": "user:default/ada"}
    assert info.ownership_entity_refs == ("group:default/team",)
    assert denied == [{"result": "DENY"}, {"result": "DENY"}]
    assert own.principal.to_json() == {"type": "service", "subject": "plugin:todo"}
    with pytest.raises(Exception, match="Illegal limited user token"):
        await auth.authenticate(mock_credentials.limited_user.token())


async def test_headers_go_straight_into_aiohttp() -> None:
    import aiohttp

    async with (
        start_test_backend(features=[guarded_plugin()]) as test,
        aiohttp.ClientSession() as session,
    ):
        async with session.get(
            await test.url("/api/guarded/me"),
            headers=mock_credentials.user.headers("user:default/ada"),
        ) as as_ada:
            ada = await as_ada.json()
        async with session.get(
            await test.url("/api/guarded/services"),
            headers=mock_credentials.service.headers("plugin:catalog"),
        ) as as_service:
            service_status = as_service.status
        async with session.get(
            await test.url("/api/guarded/me"), headers=mock_credentials.none.headers()
        ) as anonymous:
            anonymous_status = anonymous.status

    assert ada == {"principal": {"type": "user", "userEntityRef": "user:default/ada"}}
    assert service_status == 200
    assert anonymous_status == 401
