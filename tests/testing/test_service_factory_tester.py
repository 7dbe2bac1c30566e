"""``ServiceFactoryTester``: a service factory tested without a backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from backstage_runtime import (
    ServiceRef,
    core_services,
    create_service_factory,
    create_service_ref,
)
from backstage_runtime.api import (
    LoggerService,
    PluginMetadataService,
    RootLifecycleService,
    ServiceInstantiationError,
)
from backstage_runtime.api.services.lifecycle import LifecycleService
from backstage_runtime.defaults.cache import cache_service_factory
from backstage_runtime.testing import MockRootConfig, ServiceFactoryTester, mock_services

pytestmark = pytest.mark.anyio


class Greeter:
    def __init__(self, plugin_id: str, greeting: str) -> None:
        self.plugin_id = plugin_id
        self.greeting = greeting


greeter_ref: ServiceRef[Greeter] = create_service_ref(id="test.greeter")
clock_ref: ServiceRef[object] = create_service_ref(id="test.clock", scope="root")


def greeter_factory() -> Any:
    def factory(*, plugin: PluginMetadataService, config: Any) -> Greeter:
        return Greeter(plugin.get_id(), config.get_optional_string("greeting") or "Hello")

    return create_service_factory(
        service=greeter_ref,
        deps={"plugin": core_services.plugin_metadata, "config": core_services.root_config},
        factory=factory,
    )


async def test_a_plugin_scoped_subject_is_built_once_per_plugin_id() -> None:
    async with ServiceFactoryTester.create(greeter_factory()) as tester:
        catalog = await tester.get_subject("catalog")
        again = await tester.get_subject("catalog")
        other = await tester.get_subject("todo")
        default = await tester.get_subject()
    assert catalog is again
    assert other is not catalog
    assert (catalog.plugin_id, other.plugin_id, default.plugin_id) == ("catalog", "todo", "test")


async def test_a_root_scoped_subject_is_one_instance_for_every_plugin() -> None:
    factory = create_service_factory(service=clock_ref, factory=object)
    async with ServiceFactoryTester.create(factory) as tester:
        assert await tester.get_subject("a") is await tester.get_subject("b")


async def test_dependencies_default_to_the_mock_services() -> None:
    seen: dict[str, Any] = {}

    def factory(*, config: Any, logger: LoggerService) -> Greeter:
        seen["config"] = config
        logger.info("built")
        return Greeter("x", "y")

    subject = create_service_factory(
        service=greeter_ref,
        deps={"config": core_services.root_config, "logger": core_services.logger},
        factory=factory,
    )
    async with ServiceFactoryTester.create(subject, config={"greeting": "Hi"}) as tester:
        await tester.get_subject("catalog")
    assert isinstance(seen["config"], MockRootConfig)
    assert seen["config"].get_string("greeting") == "Hi"
    assert [(e.message, e.fields) for e in tester.logger.entries] == [
        ("built", {"plugin": "catalog"})
    ]


async def test_given_dependencies_replace_the_defaults() -> None:
    config = mock_services.root_config({"greeting": "Ahoy"})
    async with ServiceFactoryTester.create(
        greeter_factory(), dependencies=[mock_services.root_config.factory(config=config)]
    ) as tester:
        greeter = await tester.get_subject()
        assert await tester.get_service(core_services.root_config) is config
    assert greeter.greeting == "Ahoy"


async def test_get_service_gives_the_instances_the_subject_received() -> None:
    got: list[Any] = []

    def factory(*, discovery: Any) -> Greeter:
        got.append(discovery)
        return Greeter("x", "y")

    discovery = mock_services.discovery.mock()
    subject = create_service_factory(
        service=greeter_ref, deps={"discovery": core_services.discovery}, factory=factory
    )
    async with ServiceFactoryTester.create(subject, dependencies=[discovery.factory]) as tester:
        await tester.get_subject("catalog")
        assert await tester.get_service(core_services.discovery, "catalog") is discovery
    assert got == [discovery]


async def test_closing_runs_shutdown_hooks_then_factory_cleanups() -> None:
    order: list[str] = []

    async def factory(
        *, lifecycle: LifecycleService, root_lifecycle: RootLifecycleService
    ) -> AsyncIterator[Greeter]:
        root_lifecycle.add_before_shutdown_hook(lambda: order.append("root before-shutdown"))
        lifecycle.add_shutdown_hook(lambda: order.append("plugin shutdown"))
        root_lifecycle.add_shutdown_hook(lambda: order.append("root shutdown"))
        yield Greeter("x", "y")
        order.append("factory cleanup")

    subject = create_service_factory(
        service=greeter_ref,
        deps={"lifecycle": core_services.lifecycle, "root_lifecycle": core_services.root_lifecycle},
        factory=factory,
    )
    async with ServiceFactoryTester.create(subject) as tester:
        await tester.get_subject("catalog")
        assert order == []
    assert order == ["root before-shutdown", "plugin shutdown", "root shutdown", "factory cleanup"]


async def test_a_failing_cleanup_is_logged_and_the_others_still_run() -> None:
    ran: list[str] = []

    def failing() -> Iterator[Greeter]:
        yield Greeter("x", "y")
        raise RuntimeError("cleanup broke")

    def other() -> Iterator[object]:
        yield object()
        ran.append("other cleanup")

    subject = create_service_factory(service=greeter_ref, factory=failing)
    async with ServiceFactoryTester.create(
        subject, dependencies=[create_service_factory(service=clock_ref, factory=other)]
    ) as tester:
        await tester.get_service(clock_ref)
        await tester.get_subject()
    assert ran == ["other cleanup"]
    assert [e.message for e in tester.logger.entries if e.level == "error"] == [
        "Cleanup of service 'test.greeter' of plugin 'test' failed"
    ]


async def test_a_real_default_factory_under_test() -> None:
    async with ServiceFactoryTester.create(cache_service_factory()) as tester:
        catalog = await tester.get_subject("catalog")
        todo = await tester.get_subject("todo")
        await catalog.set("key", "catalog's")
        assert await catalog.get("key") == "catalog's"
        assert await todo.get("key") is None


async def test_a_multiton_subject_gives_its_own_instance() -> None:
    ref: Any = create_service_ref(id="test.many", multiton=True)
    first = create_service_factory(service=ref, factory=lambda: "first")
    second = create_service_factory(service=ref, factory=lambda: "second")
    async with ServiceFactoryTester.create(second, dependencies=[first]) as tester:
        assert await tester.get_subject() == "second"
        assert await tester.get_service(ref) == ["first", "second"]


async def test_an_unknown_service_is_named() -> None:
    missing: ServiceRef[object] = create_service_ref(id="test.nowhere")
    async with ServiceFactoryTester.create(greeter_factory()) as tester:
        with pytest.raises(ServiceInstantiationError, match=r"'test\.nowhere'"):
            await tester.get_service(missing)


async def test_the_tester_must_be_entered_and_is_closed_after() -> None:
    tester = ServiceFactoryTester.create(greeter_factory())
    with pytest.raises(RuntimeError, match="async with"):
        await tester.get_subject()
    async with tester:
        await tester.get_subject()
    with pytest.raises(RuntimeError, match="closed"):
        await tester.get_subject()


def test_only_service_factories_are_accepted() -> None:
    with pytest.raises(TypeError, match="in dependencies"):
        ServiceFactoryTester.create(greeter_factory(), dependencies=[object()])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="as the subject"):
        ServiceFactoryTester.create(greeter_ref)  # type: ignore[arg-type]
