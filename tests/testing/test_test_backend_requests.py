"""``TestBackend.request`` and ``TestBackend.client``: calling the test backend's real server
without an aiohttp helper in every test file.
"""

from __future__ import annotations

from typing import Any

import pytest
from quart import Blueprint, Response, redirect, request

from backstage_runtime import (
    BackendPlugin,
    HttpAuthService,
    HttpRouterService,
    NotFoundError,
    core_services,
    create_backend_plugin,
)
from backstage_runtime.testing import (
    MOCK_USER_ENTITY_REF,
    TestBackend,
    TestResponse,
    mock_credentials,
    start_test_backend,
)

pytestmark = pytest.mark.anyio


def _echo_plugin() -> BackendPlugin:
    def register(env: Any) -> None:
        def init(http_router: HttpRouterService, http_auth: HttpAuthService) -> None:
            routes = Blueprint("echo", __name__)

            @routes.route("/echo", methods=["GET", "POST", "PUT"])
            async def echo() -> Any:
                credentials = await http_auth.credentials(request)
                return {
                    "method": request.method,
                    "caller": credentials.principal.to_json(),
                    "args": dict(request.args),
                    "contentType": request.content_type,
                    "body": await request.get_data(as_text=True),
                }

            @routes.delete("/echo")
            async def nothing() -> Response:
                return Response(status=204)

            @routes.get("/missing")
            async def missing() -> Any:
                raise NotFoundError("No such thing")

            @routes.get("/moved")
            async def moved() -> Any:
                return redirect("/api/echo/echo")

            @routes.get("/text")
            async def plain() -> Response:
                return Response("ünïcode, not JSON", content_type="text/plain; charset=utf-8")

            http_router.use(routes)

        env.register_init(
            deps={"http_router": core_services.http_router, "http_auth": core_services.http_auth},
            init=init,
        )

    return create_backend_plugin(plugin_id="echo", register=register)


async def test_request_reads_status_headers_and_json_body() -> None:
    async with start_test_backend(features=[_echo_plugin()]) as backend:
        reply = await backend.request("GET", "/api/echo/echo", params={"q": "a b"})

    assert isinstance(reply, TestResponse)
    assert reply.status == 200
    assert reply.content_type == "application/json"
    assert reply.headers["content-type"].startswith("application/json")
    body = reply.json()
    assert body["method"] == "GET"
    assert body["args"] == {"q": "a b"}
    # Without Authorization the caller is the mock user, as everywhere in a test backend.
    assert body["caller"] == {"type": "user", "userEntityRef": MOCK_USER_ENTITY_REF}


async def test_request_sends_the_given_headers() -> None:
    async with start_test_backend(features=[_echo_plugin()]) as backend:
        ada = await backend.request(
            "GET", "/api/echo/echo", headers=mock_credentials.user.headers("user:default/ada")
        )
        anonymous = await backend.request(
            "GET", "/api/echo/echo", headers=mock_credentials.none.headers()
        )

    assert ada.json()["caller"]["userEntityRef"] == "user:default/ada"
    assert anonymous.status == 401
    assert anonymous.json()["error"]["name"] == "AuthenticationError"


async def test_json_none_is_sent_as_json_null_and_data_as_it_is() -> None:
    async with start_test_backend(features=[_echo_plugin()]) as backend:
        null = await backend.request("PUT", "/api/echo/echo", json=None)
        value = await backend.request("PUT", "/api/echo/echo", json={"value": "ü"})
        raw = await backend.request(
            "POST", "/api/echo/echo", data=b"a=1", headers={"Content-Type": "text/plain"}
        )
        no_body = await backend.request("PUT", "/api/echo/echo")

    assert (null.json()["body"], null.json()["contentType"]) == ("null", "application/json")
    assert value.json()["body"] == '{"value": "\\u00fc"}'
    assert (raw.json()["body"], raw.json()["contentType"]) == ("a=1", "text/plain")
    assert no_body.json()["body"] == ""


async def test_an_empty_body_is_no_json_and_says_so() -> None:
    async with start_test_backend(features=[_echo_plugin()]) as backend:
        reply = await backend.request("DELETE", "/api/echo/echo")

    assert (reply.status, reply.body) == (204, b"")
    with pytest.raises(ValueError, match=r"The response \(204\) has no body"):
        reply.json()


async def test_a_body_that_is_not_json_is_named_in_the_error() -> None:
    async with start_test_backend(features=[_echo_plugin()]) as backend:
        reply = await backend.request("GET", "/api/echo/text")

    assert reply.text == "ünïcode, not JSON"
    with pytest.raises(ValueError, match=r"\(200, text/plain\) is not JSON: b'\\xc3"):
        reply.json()


async def test_errors_arrive_as_the_backstage_error_json() -> None:
    async with start_test_backend(features=[_echo_plugin()]) as backend:
        thrown = await backend.request("GET", "/api/echo/missing")
        unknown = await backend.request("GET", "/api/echo/nowhere")

    assert thrown.status == 404
    assert thrown.json()["error"] == {"name": "NotFoundError", "message": "No such thing"}
    assert thrown.json()["request"] == {"method": "GET", "url": "/missing"}
    assert (unknown.status, unknown.json()["error"]["name"]) == (404, "NotFoundError")


async def test_redirects_are_not_followed() -> None:
    async with start_test_backend(features=[_echo_plugin()]) as backend:
        reply = await backend.request("GET", "/api/echo/moved")

    assert reply.status == 302
    assert reply.headers["Location"] == "/api/echo/echo"


async def test_request_refuses_a_relative_path_and_two_bodies() -> None:
    async with start_test_backend(features=[_echo_plugin()]) as backend:
        with pytest.raises(ValueError, match="from the server's root, got 'api/echo/echo'"):
            await backend.request("GET", "api/echo/echo")
        with pytest.raises(ValueError, match="json= or data=, not both"):
            await backend.request("PUT", "/api/echo/echo", json={}, data=b"{}")


async def test_client_is_a_session_rooted_at_the_server() -> None:
    async with start_test_backend(features=[_echo_plugin()]) as backend:
        async with backend.client() as http, http.get("/api/echo/echo") as reply:
            status, body = reply.status, await reply.json()
        assert http.closed

    assert status == 200
    assert body["method"] == "GET"


async def test_the_request_session_is_closed_when_the_backend_stops() -> None:
    async with start_test_backend(features=[_echo_plugin()]) as backend:
        await backend.request("GET", "/api/echo/echo")
        session = backend._session
        assert session is not None
        assert not session.closed

    assert session.closed


async def test_fixture_backends_answer_requests(
    test_backend_factory: Any,
) -> None:
    backend: TestBackend = await test_backend_factory(features=[_echo_plugin()])

    assert (await backend.request("GET", "/api/echo/echo")).status == 200
