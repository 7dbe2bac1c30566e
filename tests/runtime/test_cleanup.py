"""Generator factories' cleanup at stop: order, timeout, and misbehaving factories."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import anyio
import pytest
from _support.features import plugin_with_init

from backstage_runtime.api import ServiceRef, create_service_factory, create_service_ref
from backstage_runtime.runtime import create_specialized_backend
from backstage_runtime.testing import MockRootLogger, test_default_service_factories

pytestmark = pytest.mark.anyio

ROOT_A: ServiceRef[Any] = create_service_ref(id="svc.rootA", scope="root")
ROOT_B: ServiceRef[Any] = create_service_ref(id="svc.rootB", scope="root")
PLUGIN_A: ServiceRef[Any] = create_service_ref(id="svc.pluginA")
PLUGIN_B: ServiceRef[Any] = create_service_ref(id="svc.pluginB")


def recording(events: list[str], name: str) -> Any:
    async def factory(**_deps: object) -> AsyncIterator[str]:
        events.append(f"{name} up")
        yield name
        events.append(f"{name} down")

    return factory


async def run(
    factories: list[Any],
    plugin_deps: Mapping[str, ServiceRef[Any]],
    config: Mapping[str, Any] | None = None,
) -> MockRootLogger:
    logger = MockRootLogger()
    backend = create_specialized_backend(
        default_service_factories=[
            *test_default_service_factories(dict(config or {}), logger),
            *factories,
        ]
    )
    backend.add(plugin_with_init("p", plugin_deps))
    async with backend:
        pass
    return logger


async def test_cleanups_run_in_reverse_creation_order_plugin_scope_first() -> None:
    events: list[str] = []
    factories = [
        create_service_factory(service=ROOT_A, factory=recording(events, "rootA")),
        create_service_factory(
            service=ROOT_B, deps={"a": ROOT_A}, factory=recording(events, "rootB")
        ),
        create_service_factory(
            service=PLUGIN_A, deps={"b": ROOT_B}, factory=recording(events, "pluginA")
        ),
        create_service_factory(
            service=PLUGIN_B, deps={"a": PLUGIN_A}, factory=recording(events, "pluginB")
        ),
    ]
    await run(factories, {"b": PLUGIN_B})
    assert events == [
        "rootA up",
        "rootB up",
        "pluginA up",
        "pluginB up",
        "pluginB down",
        "pluginA down",
        "rootB down",
        "rootA down",
    ]


async def test_a_factory_yielding_twice_is_closed_with_a_warning() -> None:
    events: list[str] = []

    def twice() -> Iterator[str]:
        try:
            yield "first"
            yield "second"
            events.append("ran past the second yield")
        finally:
            events.append("closed")

    factories = [create_service_factory(service=PLUGIN_A, factory=twice)]
    logger = await run(factories, {"a": PLUGIN_A})
    assert events == ["closed"]
    [warning] = [e for e in logger.entries if "yielded" in e.message]
    assert warning.level == "warn"
    assert (
        warning.message
        == "The factory of service 'svc.pluginA' of plugin 'p' yielded more than once"
    )


async def test_a_hanging_cleanup_is_cut_off_and_the_next_one_still_runs() -> None:
    events: list[str] = []
    never = anyio.Event()

    async def hangs(a: str) -> AsyncIterator[str]:
        yield "value"
        await never.wait()

    factories = [
        create_service_factory(service=ROOT_A, factory=recording(events, "rootA")),
        create_service_factory(service=ROOT_B, deps={"a": ROOT_A}, factory=hangs),
    ]
    logger = await run(
        factories,
        {"b": ROOT_B},
        config={"backend": {"lifecycle": {"shutdownHookTimeout": "100ms"}}},
    )
    assert events == ["rootA up", "rootA down"]
    [entry] = [e for e in logger.entries if e.message.startswith("Cleanup of")]
    assert entry.level == "error"
    assert entry.message == "Cleanup of service 'svc.rootB' timed out after 0.1s"


async def test_a_failing_cleanup_is_logged_and_the_next_one_still_runs() -> None:
    events: list[str] = []

    async def breaks(a: str) -> AsyncIterator[str]:
        yield "value"
        raise RuntimeError("cleanup broke")

    factories = [
        create_service_factory(service=PLUGIN_A, factory=recording(events, "pluginA")),
        create_service_factory(service=PLUGIN_B, deps={"a": PLUGIN_A}, factory=breaks),
    ]
    logger = await run(factories, {"b": PLUGIN_B})
    assert events == ["pluginA up", "pluginA down"]
    [entry] = [e for e in logger.entries if e.message.startswith("Cleanup of")]
    assert entry.level == "error"
    assert entry.message == "Cleanup of service 'svc.pluginB' of plugin 'p' failed"
    assert str(entry.error) == "cleanup broke"
