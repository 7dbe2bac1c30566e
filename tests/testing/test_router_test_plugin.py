"""``create_router_test_plugin``: a router tested alone, behind the real credentials barrier and
error handler of a one-plugin test backend (Backstage's ``express().use(router)`` + supertest).
"""

from __future__ import annotations

from typing import Any

import pytest
from quart import Blueprint, request

from backstage_runtime import (
    BackendStartupError,
    HttpAuthService,
    InputError,
    LoggerService,
    ServiceRef,
    core_services,
    create_service_factory,
    create_service_ref,
)
from backstage_runtime.testing import (
    create_router_test_plugin,
    mock_credentials,
    start_test_backend,
)

pytestmark = pytest.mark.anyio


def whoami_router(http_auth: HttpAuthService) -> Blueprint:
    """A router needing the plugin's http auth, as real routers do."""
    routes = Blueprint("whoami", __name__)

    @routes.get("/me")
    async def me() -> Any:
        credentials = await http_auth.credentials(request, allow=["user"])
        return credentials.principal.to_json()

    @routes.post("/echo")
    async def echo() -> Any:
        body = await request.get_json()
        if not isinstance(body, dict) or "value" not in body:
            raise InputError('Missing required field "value"')
        return body

    @routes.get("/public")
    async def public() -> Any:
        credentials = await http_auth.credentials(request)
        return {"type": credentials.principal.type}

    return routes


async def test_the_router_is_mounted_under_the_plugin_id_with_its_services() -> None:
    plugin = create_router_test_plugin(
        lambda http_auth: whoami_router(http_auth), plugin_id="whoami"
    )
    async with start_test_backend(features=[plugin]) as backend:
        default = await backend.request("GET", "/api/whoami/me")
        ada = await backend.request(
            "GET", "/api/whoami/me", headers=mock_credentials.user.headers("user:default/ada")
        )

    assert (default.status, default.json()["userEntityRef"]) == (200, "user:default/mock")
    assert ada.json()["userEntityRef"] == "user:default/ada"


async def test_the_credentials_barrier_and_the_error_json_apply() -> None:
    async with start_test_backend(features=[create_router_test_plugin(whoami_router)]) as backend:
        anonymous = await backend.request(
            "GET", "/api/test/me", headers=mock_credentials.none.headers()
        )
        service = await backend.request(
            "GET", "/api/test/me", headers=mock_credentials.service.headers("plugin:catalog")
        )
        invalid = await backend.request("POST", "/api/test/echo", json={"other": 1})

    assert (anonymous.status, anonymous.json()["error"]["name"]) == (401, "AuthenticationError")
    assert (service.status, service.json()["error"]["name"]) == (403, "NotAllowedError")
    assert invalid.status == 400
    assert invalid.json() == {
        "error": {"name": "InputError", "message": 'Missing required field "value"'},
        "request": {"method": "POST", "url": "/echo"},
        "response": {"statusCode": 400},
    }


async def test_auth_policies_relax_the_barrier_for_their_paths() -> None:
    plugin = create_router_test_plugin(whoami_router, auth_policies={"/public": "unauthenticated"})
    async with start_test_backend(features=[plugin]) as backend:
        public = await backend.request(
            "GET", "/api/test/public", headers=mock_credentials.none.headers()
        )
        guarded = await backend.request(
            "GET", "/api/test/me", headers=mock_credentials.none.headers()
        )

    assert (public.status, public.json()) == (200, {"type": "none"})
    assert guarded.status == 401


async def test_explicit_deps_reach_services_of_the_plugins_own() -> None:
    greeting_ref: ServiceRef[str] = create_service_ref(id="test.greeting")
    greeting = create_service_factory(service=greeting_ref, factory=lambda: "hello")

    def router(*, text: str, log: LoggerService) -> Blueprint:
        routes = Blueprint("greeting", __name__)

        @routes.get("/")
        async def greet() -> Any:
            log.info("greeted")
            return {"greeting": text}

        return routes

    plugin = create_router_test_plugin(
        router, plugin_id="greeter", deps={"text": greeting_ref, "log": core_services.logger}
    )
    async with start_test_backend(features=[plugin, greeting]) as backend:
        reply = await backend.request("GET", "/api/greeter/")

    assert reply.json() == {"greeting": "hello"}
    assert "greeted" in backend.logger.messages()


async def test_an_async_create_router_is_awaited() -> None:
    async def create(http_auth: HttpAuthService, logger: LoggerService) -> Blueprint:
        logger.info("router created")
        return whoami_router(http_auth)

    async with start_test_backend(features=[create_router_test_plugin(create)]) as backend:
        reply = await backend.request("GET", "/api/test/me")

    assert reply.status == 200
    assert "router created" in backend.logger.messages()


def test_a_parameter_that_is_no_core_service_is_named() -> None:
    def router(http_auth: HttpAuthService, store: object) -> Blueprint:
        return Blueprint("x", __name__)

    with pytest.raises(
        TypeError, match=r"Parameter 'store' of create_router is not a core service"
    ):
        create_router_test_plugin(router)


def test_parameters_with_defaults_may_be_anything() -> None:
    def router(http_auth: HttpAuthService, store: object = None) -> Blueprint:
        return Blueprint("x", __name__)

    assert create_router_test_plugin(router, plugin_id="fine").plugin_id == "fine"


async def test_a_create_router_returning_none_fails_the_plugin_with_its_id() -> None:
    plugin = create_router_test_plugin(lambda: None, plugin_id="broken")

    with pytest.raises(
        BackendStartupError,
        match=r"Plugin 'broken' startup failed; caused by TypeError: create_router of the test "
        r"plugin 'broken' returned None",
    ):
        async with start_test_backend(features=[plugin]):
            pytest.fail("must not start")
