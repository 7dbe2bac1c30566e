"""``mock_services.<service>``: an instance, ``.factory()`` and ``.mock()`` for every service."""

from __future__ import annotations

from typing import Any
from unittest.mock import AsyncMock, MagicMock

import pytest
from _support.features import plugin_with_init
from _support.http import request
from quart import Blueprint
from quart import request as quart_request

from backstage_runtime import ServiceFactory, ServiceRef, core_services, create_backend_plugin
from backstage_runtime.api import actions_service_ref, events_service_ref
from backstage_runtime.testing import (
    MockRootConfig,
    ServiceMock,
    mock_credentials,
    mock_services,
    start_test_backend,
)

pytestmark = pytest.mark.anyio

#: Every ``mock_services`` member and the service it stands for.
MEMBERS: dict[str, ServiceRef[Any]] = {
    "root_config": core_services.root_config,
    "root_logger": core_services.root_logger,
    "logger": core_services.logger,
    "discovery": core_services.discovery,
    "lifecycle": core_services.lifecycle,
    "root_lifecycle": core_services.root_lifecycle,
    "http_router": core_services.http_router,
    "root_http_router": core_services.root_http_router,
    "root_health": core_services.root_health,
    "permissions_registry": core_services.permissions_registry,
    "root_instance_metadata": core_services.root_instance_metadata,
    "root_system_metadata": core_services.root_system_metadata,
    "database": core_services.database,
    "cache": core_services.cache,
    "url_reader": core_services.url_reader,
    "auditor": core_services.auditor,
    "auth": core_services.auth,
    "http_auth": core_services.http_auth,
    "user_info": core_services.user_info,
    "permissions": core_services.permissions,
    "scheduler": core_services.scheduler,
    "events": events_service_ref,
    "actions_registry": core_services.actions_registry,
    "actions": actions_service_ref,
}


def test_every_core_service_has_a_member() -> None:
    # Identity is legacy (Backstage dropped its mock); plugin metadata is the backend's own.
    without_mock = {core_services.identity.id, core_services.plugin_metadata.id}
    covered = {ref.id for ref in MEMBERS.values()}
    missing = {ref.id for ref in core_services.all()} - covered - without_mock
    assert missing == set()


@pytest.mark.parametrize("name", sorted(MEMBERS))
def test_factory_serves_the_members_service(name: str) -> None:
    factory = getattr(mock_services, name).factory()
    assert isinstance(factory, ServiceFactory)
    assert factory.service.id == MEMBERS[name].id


@pytest.mark.parametrize("name", sorted(MEMBERS))
def test_mock_is_specd_to_the_service_and_carries_its_factory(name: str) -> None:
    double = getattr(mock_services, name).mock()
    assert isinstance(double, ServiceMock)
    assert double.factory.service.id == MEMBERS[name].id
    with pytest.raises(AttributeError):
        _ = double.no_such_method


async def test_unspecified_methods_record_calls_and_return_none() -> None:
    discovery = mock_services.discovery.mock()
    assert await discovery.get_base_url("catalog") is None
    discovery.get_base_url.assert_awaited_once_with("catalog")
    assert isinstance(discovery.get_base_url, AsyncMock)
    router = mock_services.http_router.mock()
    assert router.use("app") is None
    router.use.assert_called_once_with("app")


async def test_given_implementations_are_used_and_still_recorded() -> None:
    async def external(plugin_id: str) -> str:
        return f"https://backstage.example.com/api/{plugin_id}"

    discovery = mock_services.discovery.mock(
        get_base_url=lambda plugin_id: f"http://internal/{plugin_id}",
        get_external_base_url=external,
    )
    assert await discovery.get_base_url("catalog") == "http://internal/catalog"
    assert await discovery.get_external_base_url("todo") == (
        "https://backstage.example.com/api/todo"
    )
    discovery.get_external_base_url.assert_awaited_once_with("todo")


async def test_non_callable_implementations_set_the_attribute() -> None:
    database = mock_services.database.mock(skip_migrations=True)
    assert database.skip_migrations is True
    assert mock_services.database.mock().skip_migrations is None


def test_a_misspelt_implementation_names_the_service_and_its_members() -> None:
    with pytest.raises(TypeError) as caught:
        mock_services.discovery.mock(get_base_uri=lambda plugin_id: "x")
    message = str(caught.value)
    assert "'core.discovery'" in message
    assert "'get_base_uri'" in message
    assert "get_base_url, get_external_base_url" in message


async def test_calls_are_checked_against_the_protocols_signature() -> None:
    discovery = mock_services.discovery.mock()
    with pytest.raises(TypeError):
        await discovery.get_base_url()


def test_logger_mock_children_are_logger_mocks() -> None:
    logger = mock_services.logger.mock()
    child = logger.child({"component": "x"})
    child.info("hello")
    logger.child.assert_called_once_with({"component": "x"})
    child.info.assert_called_once_with("hello")
    root_child = mock_services.root_logger.mock().child({"type": "initialization"})
    root_child.warn("careful")
    root_child.warn.assert_called_once_with("careful")


async def test_auditor_mock_events_record_success_and_failure() -> None:
    auditor = mock_services.auditor.mock()
    event = await auditor.create_event("fetch", severity_level="low")
    await event.success(meta={"count": 1})
    error = ValueError("boom")
    await event.fail(error=error)
    auditor.create_event.assert_awaited_once_with("fetch", severity_level="low")
    event.success.assert_awaited_once_with(meta={"count": 1})
    event.fail.assert_awaited_once_with(error=error)


async def test_existing_fakes_gain_mocks_too() -> None:
    cache = mock_services.cache.mock(get=lambda key: {"cached": key})
    assert await cache.get("k") == {"cached": "k"}
    await cache.set("k", 1)
    cache.set.assert_awaited_once_with("k", 1)
    permissions = mock_services.permissions.mock()
    assert isinstance(permissions.authorize, AsyncMock)
    events = mock_services.events.mock()
    await events.publish(topic="t", event_payload={})
    events.publish.assert_awaited_once()


async def test_a_mock_factory_serves_the_double_in_a_backend() -> None:
    discovery = mock_services.discovery.mock(get_base_url=lambda plugin_id: "http://elsewhere")
    seen: list[str] = []

    async def init(discovery: Any) -> None:
        seen.append(await discovery.get_base_url("catalog"))

    plugin = plugin_with_init("todo", {"discovery": core_services.discovery}, init)
    async with start_test_backend(features=[plugin, discovery.factory]):
        assert seen == ["http://elsewhere"]
    discovery.get_base_url.assert_awaited_once_with("catalog")


async def test_a_lifecycle_mock_records_hooks_and_serves_a_backend() -> None:
    lifecycle = mock_services.lifecycle.mock()

    def hook() -> None:
        raise AssertionError("a mock lifecycle never runs hooks")

    def init(lifecycle: Any) -> None:
        lifecycle.add_startup_hook(hook)

    plugin = plugin_with_init("todo", {"lifecycle": core_services.lifecycle}, init)
    async with start_test_backend(features=[plugin, lifecycle.factory]):
        # The plugin's HTTP router adds a hook of its own.
        lifecycle.add_startup_hook.assert_any_call(hook)
        lifecycle.startup.assert_awaited_once_with()
    lifecycle.shutdown.assert_awaited_once_with()


async def test_discovery_instance_points_at_port_zero() -> None:
    # As Backstage's mock: nothing listens there, so requests must be mocked.
    discovery = mock_services.discovery()
    assert await discovery.get_base_url("catalog") == "http://localhost:0/api/catalog"
    assert await discovery.get_external_base_url("catalog") == "http://localhost:0/api/catalog"


async def test_lifecycle_instances_run_their_hooks_when_told() -> None:
    ran: list[str] = []
    lifecycle = mock_services.lifecycle("todo")
    lifecycle.add_startup_hook(lambda: ran.append("plugin startup"))
    root = mock_services.root_lifecycle()
    root.add_shutdown_hook(lambda: ran.append("root shutdown"))
    await lifecycle.startup()
    await root.shutdown()
    assert ran == ["plugin startup", "root shutdown"]


def test_logger_instance_records_with_the_plugin_id() -> None:
    logger = mock_services.logger("todo")
    logger.info("hello")
    assert [(e.message, e.fields) for e in logger.entries] == [("hello", {"plugin": "todo"})]


async def test_root_instance_metadata_lists_no_plugins_by_default() -> None:
    assert await mock_services.root_instance_metadata().get_installed_plugins() == ()


def test_permissions_registry_instance_is_a_working_registry() -> None:
    registry = mock_services.permissions_registry("todo")
    registry.add_permissions([{"type": "basic", "name": "todo.read", "attributes": {}}])
    assert callable(registry.routes)


# -- root_config.update -------------------------------------------------------------------------


def test_root_config_update_changes_reads_and_calls_subscribers() -> None:
    config = mock_services.root_config({"todo": {"title": "Old"}})
    assert isinstance(config, MockRootConfig)
    view = config.get_config("todo")
    seen: list[str] = []
    config.subscribe(lambda: seen.append(config.get_string("todo.title")))
    config.update({"todo": {"title": "New"}})
    assert seen == ["New"]
    assert view.get_string("title") == "New"


def test_root_config_update_calls_subscribers_even_without_a_change() -> None:
    # As Backstage's ObservableConfigProxy.setConfig: every update notifies.
    config = mock_services.root_config({"a": 1})
    calls = MagicMock()
    config.subscribe(calls)
    config.update({"a": 1})
    calls.assert_called_once_with()


def test_root_config_update_errors_name_the_mock_source() -> None:
    config = mock_services.root_config()
    config.update({"a": "text"})
    with pytest.raises(Exception, match="mock-config"):
        config.get_number("a")


async def test_a_plugin_sees_a_config_update_through_a_test_backend() -> None:
    config = mock_services.root_config({"todo": {"title": "Old"}})
    titles: list[str] = []

    def init(config: Any) -> None:
        config.subscribe(lambda: titles.append(config.get_string("todo.title")))

    plugin = plugin_with_init("todo", {"config": core_services.root_config}, init)
    async with start_test_backend(features=[plugin, mock_services.root_config.factory()]) as test:
        served = await test.get_service(core_services.root_config)
        assert isinstance(served, MockRootConfig)
    async with start_test_backend(
        features=[plugin, mock_services.root_config.factory(config=config)]
    ) as test:
        assert await test.get_service(core_services.root_config) is config
        config.update({"todo": {"title": "New"}})
        assert titles == ["New"]


def test_root_config_factory_takes_data_or_a_config_not_both() -> None:
    with pytest.raises(ValueError, match="not both"):
        mock_services.root_config.factory({"a": 1}, config=mock_services.root_config())


# -- http_auth default credentials ---------------------------------------------------------------


def _whoami_plugin() -> Any:
    def register(env: Any) -> None:
        def init(http: Any, http_auth: Any) -> None:
            routes = Blueprint("whoami", __name__)

            @routes.get("/me")
            async def me() -> Any:
                credentials = await http_auth.credentials(quart_request)
                return {"principal": credentials.principal.to_json()}

            @routes.get("/user-only")
            async def user_only() -> Any:
                await http_auth.credentials(quart_request, allow=["user"])
                return {"ok": True}

            http.use(routes)

        env.register_init(
            deps={"http": core_services.http_router, "http_auth": core_services.http_auth},
            init=init,
        )

    return create_backend_plugin(plugin_id="whoami", register=register)


async def test_http_auth_default_credentials_apply_to_requests_without_any() -> None:
    service = mock_credentials.service("plugin:catalog")
    factory = mock_services.http_auth.factory(default_credentials=service)
    async with start_test_backend(features=[_whoami_plugin(), factory]) as test:
        default = await request("GET", await test.url("/api/whoami/me"))
        explicit = await request(
            "GET",
            await test.url("/api/whoami/me"),
            headers={"Authorization": mock_credentials.user.header("user:default/ada")},
        )
    assert default.json()["principal"] == {"type": "service", "subject": "plugin:catalog"}
    assert explicit.json()["principal"]["userEntityRef"] == "user:default/ada"


async def test_http_auth_default_none_credentials_make_routes_unauthenticated() -> None:
    factory = mock_services.http_auth.factory(default_credentials=mock_credentials.none())
    async with start_test_backend(features=[_whoami_plugin(), factory]) as test:
        reply = await request("GET", await test.url("/api/whoami/user-only"))
    assert reply.status == 401
    assert reply.json()["error"]["name"] == "AuthenticationError"


async def test_http_auth_instance_takes_default_credentials() -> None:
    http_auth = mock_services.http_auth("todo", default_credentials=mock_credentials.none())
    assert http_auth._default_credentials == mock_credentials.none()


def test_http_auth_default_credentials_must_be_credentials() -> None:
    with pytest.raises(TypeError, match="default_credentials"):
        mock_services.http_auth.factory(default_credentials="user:default/ada")  # type: ignore[arg-type]
