"""Every graph problem is reported before anything starts, each naming its culprit."""

from __future__ import annotations

from typing import Any

import pytest
from _support.features import plugin_with_init

from backstage_runtime.api import (
    ExtensionPoint,
    ServiceRef,
    create_backend_module,
    create_backend_plugin,
    create_extension_point,
    create_service_factory,
    create_service_ref,
)
from backstage_runtime.api.errors import BackendValidationError
from backstage_runtime.runtime import create_specialized_backend

pytestmark = pytest.mark.anyio


async def start_expecting_problems(*features: Any) -> list[str]:
    backend = create_specialized_backend(default_service_factories=[])
    for feature in features:
        backend.add(feature)
    with pytest.raises(BackendValidationError) as caught:
        await backend.start()
    return caught.value.problems


async def test_missing_service_names_the_service_and_the_plugin() -> None:
    absent: ServiceRef[Any] = create_service_ref(id="example.absent")
    problems = await start_expecting_problems(plugin_with_init("catalog", {"absent": absent}))
    assert problems == [
        "Service or extension point dependencies of plugin 'catalog' are missing for the "
        "following ref(s): serviceRef{example.absent}"
    ]


async def test_missing_dependency_of_a_factory_names_both_services_and_the_plugin() -> None:
    wanted: ServiceRef[Any] = create_service_ref(id="example.wanted")
    absent: ServiceRef[Any] = create_service_ref(id="example.absent")
    factory = create_service_factory(service=wanted, deps={"a": absent}, factory=lambda a: a)
    problems = await start_expecting_problems(factory, plugin_with_init("todo", {"w": wanted}))
    assert problems == [
        "Failed to instantiate service 'example.wanted' for 'todo' because the following "
        "dependent services are missing: 'example.absent'"
    ]


async def test_circular_dependency_prints_the_cycle_path() -> None:
    a: ServiceRef[Any] = create_service_ref(id="svc.a")
    b: ServiceRef[Any] = create_service_ref(id="svc.b")
    c: ServiceRef[Any] = create_service_ref(id="svc.c")
    problems = await start_expecting_problems(
        create_service_factory(service=a, deps={"b": b}, factory=lambda b: None),
        create_service_factory(service=b, deps={"c": c}, factory=lambda c: None),
        create_service_factory(service=c, deps={"a": a}, factory=lambda a: None),
        plugin_with_init("p", {"a": a}),
    )
    assert problems == [
        "Circular dependencies detected:\n  'svc.a' -> 'svc.b' -> 'svc.c' -> 'svc.a'"
    ]


async def test_root_service_depending_on_plugin_service_is_rejected() -> None:
    root: ServiceRef[Any] = create_service_ref(id="svc.root", scope="root")
    plugin: ServiceRef[Any] = create_service_ref(id="svc.plugin")
    problems = await start_expecting_problems(
        create_service_factory(service=root, deps={"p": plugin}, factory=lambda p: None),
        create_service_factory(service=plugin, factory=lambda: None),
    )
    assert problems == [
        "Failed to instantiate 'root' scoped service 'svc.root' because it depends on 'plugin' "
        "scoped service 'svc.plugin'."
    ]


async def test_duplicate_plugin_ids_are_rejected_naming_both_sources() -> None:
    def register(env: Any) -> None:
        env.register_init(deps={}, init=lambda: None)

    first = create_backend_plugin(plugin_id="catalog", register=register)
    second = create_backend_plugin(plugin_id="catalog", register=register)
    problems = await start_expecting_problems(first, second)
    assert problems == [
        f"Plugin 'catalog' is already registered (first by {first.source}, again by {second.source})"
    ]
    assert first.source != second.source
    assert first.source.startswith(__file__)


async def test_duplicate_factories_for_a_singleton_are_rejected() -> None:
    ref: ServiceRef[Any] = create_service_ref(id="svc.single")
    problems = await start_expecting_problems(
        create_service_factory(service=ref, factory=lambda: 1),
        create_service_factory(service=ref, factory=lambda: 2),
    )
    assert len(problems) == 1
    assert problems[0].startswith("Duplicate service implementations provided for svc.single (")


async def test_duplicate_factories_for_a_multiton_are_collected() -> None:
    ref: ServiceRef[Any] = create_service_ref(id="svc.many", multiton=True)
    seen: list[Any] = []
    backend = create_specialized_backend(default_service_factories=[])
    backend.add(create_service_factory(service=ref, factory=lambda: 1))
    backend.add(create_service_factory(service=ref, factory=lambda: 2))
    backend.add(plugin_with_init("p", {"many": ref}, lambda many: seen.append(many)))
    async with backend:
        assert seen == [[1, 2]]


async def test_extension_point_registered_twice_names_both_registrants() -> None:
    ep: ExtensionPoint[object] = create_extension_point(id="catalog.processing")

    def register_with_ep(env: Any) -> None:
        env.register_extension_point(ep, object())
        env.register_init(deps={}, init=lambda: None)

    problems = await start_expecting_problems(
        create_backend_plugin(plugin_id="catalog", register=register_with_ep),
        create_backend_module(plugin_id="catalog", module_id="extra", register=register_with_ep),
    )
    assert problems == [
        "ExtensionPoint with ID 'catalog.processing' is already registered (by plugin 'catalog', "
        "again by module 'extra' for plugin 'catalog')"
    ]


async def test_plugin_depending_on_an_extension_point_is_rejected() -> None:
    ep: ExtensionPoint[object] = create_extension_point(id="catalog.processing")

    def register(env: Any) -> None:
        env.register_extension_point(ep, object())
        env.register_init(deps={"ep": ep}, init=lambda ep: None)

    problems = await start_expecting_problems(
        create_backend_plugin(plugin_id="catalog", register=register)
    )
    assert problems == [
        "Rejected dependency on extension point catalog.processing from outside of a module "
        "(in plugin 'catalog')"
    ]


async def test_module_using_another_plugins_extension_point_is_illegal() -> None:
    ep: ExtensionPoint[object] = create_extension_point(id="catalog.processing")

    def register_catalog(env: Any) -> None:
        env.register_extension_point(ep, object())
        env.register_init(deps={}, init=lambda: None)

    def register_module(env: Any) -> None:
        env.register_init(deps={"ep": ep}, init=lambda ep: None)

    problems = await start_expecting_problems(
        create_backend_plugin(plugin_id="catalog", register=register_catalog),
        plugin_with_init("scaffolder"),
        create_backend_module(plugin_id="scaffolder", module_id="x", register=register_module),
    )
    assert problems == [
        "Illegal dependency: Module 'x' for plugin 'scaffolder' attempted to depend on extension "
        "point 'catalog.processing' for plugin 'catalog'. Extension points can only be used "
        "within their plugin's scope."
    ]


async def test_every_problem_is_reported_in_one_error() -> None:
    absent: ServiceRef[Any] = create_service_ref(id="example.absent")
    problems = await start_expecting_problems(
        plugin_with_init("a", {"x": absent}),
        plugin_with_init("a"),
        "not a feature",
    )
    assert len(problems) == 3
    assert any("received a string 'not a feature'" in p for p in problems)
    assert any(p.startswith("Plugin 'a' is already registered") for p in problems)
    assert any("serviceRef{example.absent}" in p for p in problems)


async def test_nothing_is_built_when_validation_fails() -> None:
    built: list[str] = []
    ref: ServiceRef[Any] = create_service_ref(id="svc.root", scope="root")
    absent: ServiceRef[Any] = create_service_ref(id="svc.absent")
    backend = create_specialized_backend(default_service_factories=[])
    backend.add(create_service_factory(service=ref, factory=lambda: built.append("root")))
    backend.add(plugin_with_init("p", {"absent": absent}))
    with pytest.raises(BackendValidationError):
        await backend.start()
    assert built == []


async def test_register_errors_name_the_plugin() -> None:
    def register(env: Any) -> None:
        env.register_init(deps={}, init=lambda: None)
        env.register_init(deps={}, init=lambda: None)

    problems = await start_expecting_problems(
        create_backend_plugin(plugin_id="twice", register=register)
    )
    assert len(problems) == 1
    assert problems[0].startswith("register of plugin 'twice' (")
    assert problems[0].endswith(
        "caused by RegistrationError: register_init must only be called once"
    )


async def test_module_cycle_through_extension_points_is_reported() -> None:
    ep1: ExtensionPoint[object] = create_extension_point(id="p.one")
    ep2: ExtensionPoint[object] = create_extension_point(id="p.two")

    def module(provides: Any, consumes: Any) -> Any:
        def register(env: Any) -> None:
            env.register_extension_point(provides, object())
            env.register_init(deps={"c": consumes}, init=lambda c: None)

        return register

    problems = await start_expecting_problems(
        plugin_with_init("p"),
        create_backend_module(plugin_id="p", module_id="m1", register=module(ep1, ep2)),
        create_backend_module(plugin_id="p", module_id="m2", register=module(ep2, ep1)),
    )
    assert problems == [
        "Circular dependency detected for modules of plugin 'p', 'm1' -> 'm2' -> 'm1'"
    ]
