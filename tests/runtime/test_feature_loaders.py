"""Feature loaders: what they may return, what they may depend on, and how conflicts resolve."""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from _support.features import plugin_with_init

from backstage_runtime import (
    ServiceRef,
    core_services,
    create_backend_feature_loader,
    create_service_factory,
    create_service_ref,
)
from backstage_runtime.api.errors import BackendValidationError, ConfigError
from backstage_runtime.runtime import create_specialized_backend

pytestmark = pytest.mark.anyio

VALUE: ServiceRef[Any] = create_service_ref(id="svc.value", scope="root")
LOCATION = re.compile(r"created at '(?P<file>[^']+):(?P<line>\d+)'")


def value_factory(value: str) -> Any:
    return create_service_factory(service=VALUE, factory=lambda: value)


async def started_plugins(*features: Any) -> list[str]:
    backend = create_specialized_backend(default_service_factories=[])
    for feature in features:
        backend.add(feature)
    async with backend:
        return sorted(backend.startup_result.plugins)


async def problems_of(*features: Any, defaults: list[Any] | None = None) -> list[str]:
    backend = create_specialized_backend(default_service_factories=defaults or [])
    for feature in features:
        backend.add(feature)
    with pytest.raises(BackendValidationError) as caught:
        await backend.start()
    return caught.value.problems


async def value_seen_by_plugin(*features: Any, defaults: list[Any] | None = None) -> list[Any]:
    got: list[Any] = []
    backend = create_specialized_backend(default_service_factories=defaults or [])
    for feature in features:
        backend.add(feature)
    backend.add(plugin_with_init("consumer", {"value": VALUE}, lambda value: got.append(value)))
    async with backend:
        pass
    return got


def where(loader: Any) -> str:
    """The ``file:line`` a loader was created at, as its description shows it."""
    match = LOCATION.search(str(loader))
    assert match is not None, str(loader)
    return f"{match['file']}:{match['line']}"


async def test_loader_returning_a_list() -> None:
    loader = create_backend_feature_loader(
        loader=lambda: [plugin_with_init("a"), plugin_with_init("b")]
    )
    assert await started_plugins(loader) == ["a", "b"]


async def test_loader_returning_a_generator() -> None:
    def load() -> Iterator[Any]:
        yield plugin_with_init("a")
        yield plugin_with_init("b")

    assert await started_plugins(create_backend_feature_loader(loader=load)) == ["a", "b"]


async def test_loader_returning_an_async_generator() -> None:
    async def load() -> AsyncIterator[Any]:
        yield plugin_with_init("a")
        yield plugin_with_init("b")

    assert await started_plugins(create_backend_feature_loader(loader=load)) == ["a", "b"]


async def test_async_loader_returning_a_list() -> None:
    async def load() -> list[Any]:
        return [plugin_with_init("a")]

    assert await started_plugins(create_backend_feature_loader(loader=load)) == ["a"]


async def test_loader_receives_its_root_scoped_deps() -> None:
    got: list[Any] = []

    def load(value: str) -> list[Any]:
        got.append(value)
        return [plugin_with_init(f"from-{value}")]

    loader = create_backend_feature_loader(deps={"value": VALUE}, loader=load)
    backend = create_specialized_backend(default_service_factories=[value_factory("cfg")])
    backend.add(loader)
    async with backend:
        assert sorted(backend.startup_result.plugins) == ["from-cfg"]
    assert got == ["cfg"]


async def test_nested_loaders_run_depth_first() -> None:
    order: list[str] = []

    def inner() -> list[Any]:
        order.append("inner")
        return [plugin_with_init("inner-plugin")]

    def outer() -> list[Any]:
        order.append("outer")
        return [create_backend_feature_loader(loader=inner), plugin_with_init("outer-plugin")]

    def later() -> list[Any]:
        order.append("later")
        return []

    assert await started_plugins(
        create_backend_feature_loader(loader=outer), create_backend_feature_loader(loader=later)
    ) == ["inner-plugin", "outer-plugin"]
    assert order == ["outer", "inner", "later"]


async def test_loader_depending_on_a_plugin_scoped_ref_is_a_problem_naming_the_loader() -> None:
    here = sys._getframe().f_lineno
    loader = create_backend_feature_loader(deps={"logger": core_services.logger}, loader=list)
    line = where(loader)
    assert line == f"{__file__}:{here + 1}"
    problems = await problems_of(loader)
    assert problems == [
        "Feature loaders can only depend on root scoped services, but 'logger' is scoped to "
        f"'plugin'. Offending loader is created at '{line}'"
    ]


async def test_loader_with_a_missing_dep_is_a_problem_naming_the_ref_and_the_loader() -> None:
    absent: ServiceRef[Any] = create_service_ref(id="svc.absent", scope="root")
    loader = create_backend_feature_loader(deps={"absent": absent}, loader=list)
    assert await problems_of(loader) == [
        "No service available for the following ref(s): serviceRef{svc.absent}, depended on by "
        f"feature loader created at '{where(loader)}'"
    ]


async def test_throwing_loader_becomes_a_problem_with_its_cause() -> None:
    def load() -> list[Any]:
        raise RuntimeError("cannot load")

    loader = create_backend_feature_loader(loader=load)
    assert await problems_of(loader) == [
        f"Feature loader created at '{where(loader)}' failed; caused by RuntimeError: cannot load"
    ]


async def test_async_generator_failing_midway_becomes_a_problem() -> None:
    async def load() -> AsyncIterator[Any]:
        yield plugin_with_init("a")
        raise RuntimeError("half way")

    loader = create_backend_feature_loader(loader=load)
    assert await problems_of(loader) == [
        f"Feature loader created at '{where(loader)}' failed; caused by RuntimeError: half way"
    ]


async def test_loader_returning_something_not_iterable_is_a_problem() -> None:
    loader = create_backend_feature_loader(loader=lambda: 42)
    [problem] = await problems_of(loader)
    assert problem.startswith(f"Feature loader created at '{where(loader)}' failed; caused by")


async def test_invalid_item_from_a_loader_is_a_problem() -> None:
    loader = create_backend_feature_loader(loader=lambda: ["not a feature"])
    [problem] = await problems_of(loader)
    assert problem.startswith("Invalid backend feature at ")
    assert where(loader) in problem
    assert problem.endswith("received a string 'not a feature'")


async def test_loader_factory_for_an_explicitly_added_id_is_ignored() -> None:
    loader = create_backend_feature_loader(loader=lambda: [value_factory("from loader")])
    got = await value_seen_by_plugin(value_factory("explicit"), loader)
    assert got == ["explicit"]


async def test_explicit_factory_wins_even_when_added_after_the_loader() -> None:
    loader = create_backend_feature_loader(loader=lambda: [value_factory("from loader")])
    got = await value_seen_by_plugin(loader, value_factory("explicit"))
    assert got == ["explicit"]


async def test_two_loaders_providing_the_same_id_are_reported_naming_both() -> None:
    first = create_backend_feature_loader(loader=lambda: [value_factory("one")])
    second = create_backend_feature_loader(loader=lambda: [value_factory("two")])
    assert await problems_of(first, second) == [
        "Duplicate service implementations provided for svc.value by both feature loader "
        f"created at '{where(first)}' and feature loader created at '{where(second)}'"
    ]


async def test_two_loaders_providing_the_same_explicit_id_are_not_a_conflict() -> None:
    first = create_backend_feature_loader(loader=lambda: [value_factory("one")])
    second = create_backend_feature_loader(loader=lambda: [value_factory("two")])
    got = await value_seen_by_plugin(first, second, value_factory("explicit"))
    assert got == ["explicit"]


async def test_loader_factory_overrides_a_default() -> None:
    loader = create_backend_feature_loader(loader=lambda: [value_factory("from loader")])
    got = await value_seen_by_plugin(loader, defaults=[value_factory("default")])
    assert got == ["from loader"]


async def test_multiton_factories_from_loaders_are_appended() -> None:
    many: ServiceRef[Any] = create_service_ref(id="svc.many", scope="root", multiton=True)

    def item(value: str) -> Any:
        return create_service_factory(service=many, factory=lambda: value)

    got: list[Any] = []
    backend = create_specialized_backend(default_service_factories=[item("default")])
    backend.add(item("explicit"))
    backend.add(create_backend_feature_loader(loader=lambda: [item("one")]))
    backend.add(create_backend_feature_loader(loader=lambda: [item("two")]))
    backend.add(plugin_with_init("consumer", {"many": many}, lambda many: got.append(many)))
    async with backend:
        pass
    assert got == [["default", "explicit", "one", "two"]]


async def test_custom_description_names_the_loader() -> None:
    def load() -> list[Any]:
        raise RuntimeError("nope")

    loader = create_backend_feature_loader(loader=load, description="the plugin catalogue")
    assert await problems_of(loader) == [
        "Feature loader the plugin catalogue failed; caused by RuntimeError: nope"
    ]


BROKEN: ServiceRef[Any] = create_service_ref(id="svc.broken", scope="root")


def broken_dep_backend(events: list[str]) -> Any:
    """A loader needing VALUE (a generator factory that records its cleanup) then BROKEN."""

    def value() -> Iterator[str]:
        events.append("value built")
        yield "v"
        events.append("value cleaned up")

    def broken() -> str:
        raise ConfigError('Invalid YAML in config file "x.yaml" at line 3, column 1: oops')

    def load(value: str, broken: str) -> list[Any]:
        events.append("loader ran")
        return []

    backend = create_specialized_backend(
        default_service_factories=[
            create_service_factory(service=VALUE, factory=value),
            create_service_factory(service=BROKEN, factory=broken),
        ]
    )
    backend.add(create_backend_feature_loader(deps={"value": VALUE, "broken": BROKEN}, loader=load))
    return backend


async def test_a_dependency_failing_to_build_is_its_own_error_not_the_loaders() -> None:
    events: list[str] = []
    backend = broken_dep_backend(events)
    with pytest.raises(ConfigError, match=r'^Invalid YAML in config file "x.yaml" at line 3'):
        await backend.start()
    # The root service built before the failure is cleaned up; the loader never ran.
    assert events == ["value built", "value cleaned up"]


async def test_inspecting_reports_a_failing_dependency_as_its_own_error_and_cleans_up() -> None:
    events: list[str] = []
    backend = broken_dep_backend(events)
    with pytest.raises(ConfigError, match=r"^Invalid YAML"):
        await backend.inspect_graph()
    assert events == ["value built", "value cleaned up"]
