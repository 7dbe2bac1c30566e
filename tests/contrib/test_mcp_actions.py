"""The mcp-actions plugin on a real socket, driven by the MCP SDK's own Streamable HTTP client:
the todo plugin's actions are its tools, listed and called with the caller's credentials.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import anyio
import httpx2
import pytest
from _support.http import plugin_with_routes
from backstage_plugin_mcp_actions_backend import create_mcp_actions_plugin, mcp_actions_plugin
from backstage_plugin_todo_backend import todo_plugin
from defaults.auth._support import fake_auth_backend, real_auth_backend, user_token
from mcp import Client, types
from mcp.client.streamable_http import streamable_http_client
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from quart import Blueprint

from backstage_runtime import (
    ActionAttributes,
    ActionContext,
    BackstageServicePrincipal,
    BackstageUserPrincipal,
    NotFoundError,
    actions_registry_service_ref,
    create_backend_plugin,
)
from backstage_runtime.testing import mock_credentials, mock_services, start_test_backend

pytestmark = pytest.mark.anyio

ACTIONS = {"backend": {"actions": {"pluginSources": ["todo"]}}}
SERVICE = mock_credentials.service.headers("plugin:catalog")
ACCEPT = "application/json, text/event-stream"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}


def texts(result: types.CallToolResult) -> list[str]:
    return [block.text for block in result.content if isinstance(block, types.TextContent)]


@asynccontextmanager
async def mcp_client(
    url: str, headers: Mapping[str, str], mode: str = "legacy"
) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers=dict(headers)) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client


@asynccontextmanager
async def backend(
    config: Mapping[str, Any] | None = None, features: tuple = ()
) -> AsyncIterator[Any]:
    async with start_test_backend(
        features=[todo_plugin, mcp_actions_plugin, *features], config={**ACTIONS, **(config or {})}
    ) as test:
        yield test


async def test_the_todo_actions_are_listed_as_tools() -> None:
    async with (
        backend() as test,
        mcp_client(await test.url("/api/mcp-actions/v1"), SERVICE) as client,
    ):
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        info = client.server_info
    assert set(tools) == {"todo.create-item", "todo.list-items"}
    create = tools["todo.create-item"]
    assert create.description == "Adds an item to the TODO list and returns it with its id."
    assert create.input_schema["required"] == ["title"]
    assert create.input_schema["properties"]["title"]["type"] == "string"
    assert create.annotations is not None
    assert create.annotations.model_dump(by_alias=True, exclude_none=True) == {
        "title": "Create a TODO item",
        "destructiveHint": False,
        "idempotentHint": False,
        "readOnlyHint": False,
        "openWorldHint": False,
    }
    listing = tools["todo.list-items"].annotations
    assert listing is not None
    assert (listing.read_only_hint, listing.idempotent_hint) == (True, True)
    assert info is not None
    assert (info.name, info.version) == ("backstage", "0.1.0")


async def test_calling_a_tool_creates_the_item() -> None:
    async with backend() as test:
        async with mcp_client(await test.url("/api/mcp-actions/v1"), SERVICE) as client:
            result = await client.call_tool("todo.create-item", {"title": "Write docs"})
        async with (
            aiohttp.ClientSession() as session,
            session.get(await test.url("/api/todo/items")) as listed,
        ):
            items = (await listed.json())["items"]
    assert not result.is_error
    assert result.structured_content == {"id": 0, "title": "Write docs", "source": "actions"}
    assert texts(result) == ['{"id":0,"title":"Write docs","source":"actions"}']
    assert items == [{"id": 0, "title": "Write docs", "source": "actions"}]


def probe_plugin(started: anyio.Event | None = None) -> Any:
    """A plugin with actions that tell who called, hide behind a permission, or never finish."""

    def register(env: Any) -> None:
        def init(*, actions: Any) -> None:
            async def whoami(context: ActionContext) -> dict[str, Any]:
                principal = context.credentials.principal
                if isinstance(principal, BackstageUserPrincipal):
                    actor = principal.actor.subject if principal.actor is not None else None
                    return {"type": "user", "ref": principal.user_entity_ref, "actor": actor}
                if isinstance(principal, BackstageServicePrincipal):
                    return {"type": "service", "ref": principal.subject}
                return {"type": principal.type}

            async def secret(context: ActionContext) -> dict[str, Any]:
                return {}

            async def wait(context: ActionContext) -> dict[str, Any]:
                if started is not None:
                    started.set()
                await anyio.sleep_forever()
                return {}

            async def missing(context: ActionContext) -> dict[str, Any]:
                raise NotFoundError("entity does not exist")

            read_only = ActionAttributes(destructive=False, idempotent=True, read_only=True)
            actions.register(
                name="whoami",
                title="Who am I",
                description="The caller",
                attributes=read_only,
                action=whoami,
            )
            actions.register(
                name="secret",
                title="Secret",
                description="Only for the permitted",
                attributes=read_only,
                visibility_permission={"type": "basic", "name": "probe.secret.use"},
                action=secret,
            )
            actions.register(name="wait", title="Wait", description="Never ends", action=wait)
            actions.register(
                name="missing", title="Missing", description="Finds nothing", action=missing
            )

        env.register_init(deps={"actions": actions_registry_service_ref}, init=init)

    return create_backend_plugin(plugin_id="probe", register=register)


PROBE_SOURCES = {"backend": {"actions": {"pluginSources": ["todo", "probe"]}}}


async def test_an_invalid_input_is_a_tool_error_naming_the_field() -> None:
    async with (
        backend() as test,
        mcp_client(await test.url("/api/mcp-actions/v1"), SERVICE) as client,
    ):
        result = await client.call_tool("todo.create-item", {"title": 42})
    assert result.is_error
    [text] = texts(result)
    assert text.startswith('InputError: Invalid input to action "todo:create-item": title')
    assert "'string'" in text


async def test_an_error_of_the_action_is_a_tool_error_with_its_name() -> None:
    async with (
        backend(config=PROBE_SOURCES, features=(probe_plugin(),)) as test,
        mcp_client(await test.url("/api/mcp-actions/v1"), SERVICE) as client,
    ):
        result = await client.call_tool("probe.missing", {})
    # The registry passes the action's error on as it is (as Node's does).
    assert result.is_error
    assert texts(result) == ["NotFoundError: entity does not exist"]


async def test_an_unknown_tool_is_a_tool_error() -> None:
    async with (
        backend() as test,
        mcp_client(await test.url("/api/mcp-actions/v1"), SERVICE) as client,
    ):
        result = await client.call_tool("todo.delete-everything", {})
    assert result.is_error
    assert texts(result) == ['NotFoundError: Action "todo.delete-everything" not found']


async def test_a_request_without_credentials_gets_401_backstage_error_json() -> None:
    # The test backend reads a request without a header as the default user (as Node's
    # mock httpAuth does); mock_credentials.none is the caller without credentials.
    async with (
        backend() as test,
        aiohttp.ClientSession() as session,
        session.post(
            await test.url("/api/mcp-actions/v1"),
            json=INITIALIZE,
            headers={**mock_credentials.none.headers(), "Accept": ACCEPT},
        ) as response,
    ):
        body = await response.json()
    assert response.status == 401
    assert body == {
        "error": {"name": "AuthenticationError", "message": "Missing credentials"},
        "request": {"method": "POST", "url": "/v1"},
        "response": {"statusCode": 401},
    }


async def test_a_tool_runs_with_the_callers_credentials() -> None:
    async with (
        backend(config=PROBE_SOURCES, features=(probe_plugin(),)) as test,
        mcp_client(await test.url("/api/mcp-actions/v1"), SERVICE) as client,
    ):
        result = await client.call_tool("probe.whoami", {})
    assert result.structured_content == {"type": "service", "ref": "plugin:catalog"}


async def test_a_user_token_lists_the_tools_and_a_call_carries_the_user() -> None:
    # The test backend's plugin token on behalf of a user authenticates as that user without an
    # actor (as Node's mock auth); the registry takes it, as Node's (backend-defaults 0.18) does.
    async with (
        backend(config=PROBE_SOURCES, features=(probe_plugin(),)) as test,
        mcp_client(
            await test.url("/api/mcp-actions/v1"), mock_credentials.user.headers("user:default/ada")
        ) as client,
    ):
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("probe.whoami", {})
    assert {"todo.create-item", "probe.whoami", "probe.secret"} <= names
    assert not result.is_error
    assert result.structured_content == {"type": "user", "ref": "user:default/ada", "actor": None}


async def test_with_real_auth_a_users_call_runs_as_the_user_through_the_plugin() -> None:
    features = [todo_plugin, mcp_actions_plugin, probe_plugin(), fake_auth_backend()]
    async with real_auth_backend(features, PROBE_SOURCES) as test:
        headers = {"Authorization": f"Bearer {user_token('user:default/ada')}"}
        async with mcp_client(await test.url("/api/mcp-actions/v1"), headers) as client:
            whoami = await client.call_tool("probe.whoami", {})
            created = await client.call_tool("todo.create-item", {"title": "As Ada"})
        async with (
            aiohttp.ClientSession() as session,
            session.post(await test.url("/api/mcp-actions/v1"), json=INITIALIZE) as anonymous,
        ):
            anonymous_status = anonymous.status
    assert whoami.structured_content == {
        "type": "user",
        "ref": "user:default/ada",
        "actor": "plugin:mcp-actions",
    }
    assert created.structured_content == {"id": 0, "title": "As Ada", "source": "actions"}
    assert anonymous_status == 401


async def test_a_denied_visibility_permission_hides_the_tool() -> None:
    async with (
        backend(
            config=PROBE_SOURCES,
            features=(probe_plugin(), mock_services.permissions.factory("DENY")),
        ) as test,
        mcp_client(await test.url("/api/mcp-actions/v1"), SERVICE) as client,
    ):
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("probe.secret", {})
    assert "probe.secret" not in names
    assert {"probe.whoami", "todo.create-item"} <= names
    assert result.is_error
    assert texts(result) == ['NotFoundError: Action "probe.secret" not found']


async def test_the_2026_protocol_era_is_served_too() -> None:
    async with (
        backend() as test,
        mcp_client(await test.url("/api/mcp-actions/v1"), SERVICE, mode="auto") as client,
    ):
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("todo.create-item", {"title": "Modern"})
        version = client.protocol_version
    assert version == "2026-07-28"
    assert names == {"todo.create-item", "todo.list-items"}
    assert result.structured_content == {"id": 0, "title": "Modern", "source": "actions"}


async def test_get_and_delete_answer_405_json_rpc_and_other_paths_404() -> None:
    async with backend() as test, aiohttp.ClientSession(headers=SERVICE) as session:
        replies = []
        for method, path in [("GET", "/v1"), ("DELETE", "/v1"), ("POST", "/v2"), ("PUT", "/v1")]:
            async with session.request(method, await test.url(f"/api/mcp-actions{path}")) as reply:
                replies.append((reply.status, await reply.json()))
    not_allowed = {
        "jsonrpc": "2.0",
        "error": {"code": -32000, "message": "Method not allowed."},
        "id": None,
    }
    assert replies[0] == replies[1] == (405, not_allowed)
    assert replies[2][0] == replies[3][0] == 404
    assert replies[2][1]["error"] == {"name": "NotFoundError", "message": "No route for POST /v2"}


async def test_the_server_announces_the_configured_name_and_description() -> None:
    config = {"mcpActions": {"name": "acme-portal", "description": "Acme's Backstage"}}
    async with (
        backend(config=config) as test,
        mcp_client(await test.url("/api/mcp-actions/v1"), SERVICE) as client,
    ):
        info = client.server_info
    assert info is not None
    assert (info.name, info.description, info.version) == (
        "acme-portal",
        "Acme's Backstage",
        "0.1.0",
    )


async def test_tool_names_are_bare_action_names_without_namespacing() -> None:
    config = {"mcpActions": {"namespacedToolNames": False}}
    async with (
        backend(config=config) as test,
        mcp_client(await test.url("/api/mcp-actions/v1"), SERVICE) as client,
    ):
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("create-item", {"title": "Bare"})
    assert names == {"create-item", "list-items"}
    assert not result.is_error


async def test_named_servers_each_offer_the_actions_their_filter_picks() -> None:
    config = {
        **PROBE_SOURCES,
        "mcpActions": {
            "servers": {
                "todo": {"name": "Todo", "filter": {"include": [{"id": "todo:*"}]}},
                "readonly": {
                    "name": "Read only",
                    "description": "Nothing that changes anything",
                    "filter": {
                        "include": [{"attributes": {"readOnly": True}}],
                        "exclude": [{"id": "probe:{secret,wait}"}],
                    },
                },
            }
        },
    }
    async with backend(config=config, features=(probe_plugin(),)) as test:
        async with mcp_client(await test.url("/api/mcp-actions/v1/todo"), SERVICE) as client:
            todo = {tool.name for tool in (await client.list_tools()).tools}
        async with mcp_client(await test.url("/api/mcp-actions/v1/readonly"), SERVICE) as client:
            readonly = {tool.name for tool in (await client.list_tools()).tools}
            info = client.server_info
            outside = await client.call_tool("todo.create-item", {"title": "Not here"})
        async with (
            aiohttp.ClientSession(headers=SERVICE) as session,
            session.post(
                await test.url("/api/mcp-actions/v1"), json=INITIALIZE, headers={"Accept": ACCEPT}
            ) as default,
        ):
            default_status = default.status
    assert todo == {"todo.create-item", "todo.list-items"}
    assert readonly == {"todo.list-items", "probe.whoami"}
    assert info is not None
    assert (info.name, info.description) == ("Read only", "Nothing that changes anything")
    assert texts(outside) == ['NotFoundError: Action "todo.create-item" not found']
    assert default_status == 404


async def test_stopping_the_backend_with_a_tool_call_in_flight_does_not_hang() -> None:
    started, ended = anyio.Event(), anyio.Event()
    outcome: list[str] = []
    config = {
        **PROBE_SOURCES,
        "backend": {
            **PROBE_SOURCES["backend"],
            "lifecycle": {"shutdownHookTimeout": {"seconds": 1}},
        },
    }

    async def call_wait(url: str) -> None:
        try:
            async with mcp_client(url, SERVICE) as client:
                await client.call_tool("probe.wait", {})
            outcome.append("returned")
        except Exception as error:
            outcome.append(type(error).__name__)
        finally:
            ended.set()

    with anyio.fail_after(15):
        async with anyio.create_task_group() as tg:
            async with backend(config=config, features=(probe_plugin(started),)) as test:
                tg.start_soon(call_wait, await test.url("/api/mcp-actions/v1"))
                await started.wait()
                stopping_at = anyio.current_time()
            stopped_after = anyio.current_time() - stopping_at
            # The cut response stream reaches the client as an error, not a result.
            with anyio.fail_after(5):
                await ended.wait()
    # The in-flight call is waited for shutdownHookTimeout (1 s), then cancelled.
    assert 1 <= stopped_after < 5
    assert outcome != ["returned"]


def openid_plugin() -> Any:
    """An ``auth`` plugin serving an OpenID configuration, as auth-backend does."""
    routes = Blueprint("fake_openid", __name__)

    @routes.get("/.well-known/openid-configuration")
    async def configuration() -> Any:
        return {"issuer": "http://localhost/api/auth", "registration_endpoint": "/register"}

    return plugin_with_routes("auth", routes, policies=[("/.well-known", "unauthenticated")])


async def get(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as reply:
        body = (
            await reply.json() if reply.content_type == "application/json" else await reply.text()
        )
        return reply.status, body


async def test_no_oauth_discovery_documents_without_client_registration() -> None:
    async with backend() as test:
        status, _ = await get(
            await test.url("/.well-known/oauth-protected-resource/api/mcp-actions/v1")
        )
    assert status == 404


@pytest.mark.parametrize(
    "auth",
    [
        {"experimentalDynamicClientRegistration": {"enabled": True}},
        {"clientIdMetadataDocuments": {"enabled": True}},
        {"experimentalClientIdMetadataDocuments": {"enabled": True}},
    ],
)
async def test_client_registration_publishes_the_oauth_discovery_documents(auth: dict) -> None:
    config = {"auth": auth, "backend": {**ACTIONS["backend"], "baseUrl": "http://portal.example"}}
    async with backend(config=config, features=(openid_plugin(),)) as test:
        resource = await get(
            await test.url("/.well-known/oauth-protected-resource/api/mcp-actions/v1")
        )
        unknown = await get(
            await test.url("/.well-known/oauth-protected-resource/api/mcp-actions/v2")
        )
        server = await get(await test.url("/.well-known/oauth-authorization-server"))
    assert resource == (
        200,
        {
            "resource": "http://portal.example/api/mcp-actions/v1",
            "authorization_servers": ["http://portal.example/api/auth"],
            "scopes_supported": ["openid"],
        },
    )
    assert unknown == (404, "Not Found")
    assert server == (
        200,
        {"issuer": "http://localhost/api/auth", "registration_endpoint": "/register"},
    )


async def test_each_named_server_has_its_protected_resource_document() -> None:
    config = {
        "auth": {"experimentalDynamicClientRegistration": {"enabled": True}},
        "mcpActions": {"servers": {"catalog": {"name": "C"}, "scaffolder": {"name": "S"}}},
    }
    async with backend(config=config) as test:
        base = "/.well-known/oauth-protected-resource/api/mcp-actions/v1"
        catalog = await get(await test.url(f"{base}/catalog"))
        default = await get(await test.url(base))
    assert catalog[0] == 200
    assert catalog[1]["resource"].endswith("/api/mcp-actions/v1/catalog")
    assert default[0] == 404


async def test_operations_and_exchanges_are_measured_as_node_names_them() -> None:
    reader = InMemoryMetricReader()
    plugin = create_mcp_actions_plugin(meter_provider=MeterProvider(metric_readers=[reader]))
    async with (
        start_test_backend(features=[todo_plugin, plugin], config=ACTIONS) as test,
        mcp_client(await test.url("/api/mcp-actions/v1"), SERVICE) as client,
    ):
        await client.list_tools()
        await client.call_tool("todo.create-item", {"title": "Measured"})
        await client.call_tool("todo.nothing", {})
    found: dict[str, list[Any]] = {}
    data = reader.get_metrics_data()
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            assert scope.scope.name == "backstage-plugin-mcp-actions"
            for metric in scope.metrics:
                found[metric.name] = list(metric.data.data_points)
    operations = sorted(
        (tuple(sorted(p.attributes.items())), p.count)
        for p in found["mcp.server.operation.duration"]
    )
    call = {"mcp.method.name": "tools/call", "gen_ai.operation.name": "execute_tool"}
    assert operations == sorted(
        [
            ((("mcp.method.name", "tools/list"),), 1),
            (tuple(sorted({**call, "gen_ai.tool.name": "todo.create-item"}.items())), 1),
            (
                tuple(
                    sorted(
                        {
                            **call,
                            "gen_ai.tool.name": "todo.nothing",
                            "error.type": "tool_error",
                        }.items()
                    )
                ),
                1,
            ),
        ]
    )
    sessions = found["mcp.server.session.duration"]
    # The handshake (initialize, then the initialized notification) and the three requests.
    assert sum(p.count for p in sessions) == 5
    assert all(p.attributes["network.protocol.name"] == "http" for p in sessions)
    assert all("error.type" not in p.attributes for p in sessions)
