"""Plugins start concurrently, modules before their plugin, extension points close at init."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel
import pytest
from _support.features import plugin_with_init
from hypothesis import given, settings
from hypothesis import strategies as st

from backstage_runtime.api import (
    ExtensionPoint,
    ServiceRef,
    ServiceScope,
    create_backend_module,
    create_backend_plugin,
    create_extension_point,
    create_service_factory,
    create_service_ref,
)
from backstage_runtime.runtime import ExtensionPointClosedError, create_specialized_backend

pytestmark = pytest.mark.anyio


async def test_plugins_start_concurrently() -> None:
    # Each plugin waits for the other to have begun: this only completes if both run at once.
    began = {"a": anyio.Event(), "b": anyio.Event()}

    async def init_for(me: str, other: str) -> None:
        began[me].set()
        with anyio.fail_after(5):
            await began[other].wait()

    backend = create_specialized_backend(default_service_factories=[])
    backend.add(plugin_with_init("a", init=lambda: init_for("a", "b")))
    backend.add(plugin_with_init("b", init=lambda: init_for("b", "a")))
    async with backend:
        assert set(backend.startup_result.plugins) == {"a", "b"}


class Registry:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, item: str) -> None:
        self.items.append(item)


async def test_modules_finish_init_before_the_plugin_and_see_its_extension_point() -> None:
    ep: ExtensionPoint[Registry] = create_extension_point(id="todo.items")
    order: list[str] = []
    registry = Registry()

    def register_plugin(env: Any) -> None:
        env.register_extension_point(ep, registry)

        def init() -> None:
            order.append(f"plugin sees {registry.items}")

        env.register_init(deps={}, init=init)

    def module(module_id: str) -> Any:
        def register(env: Any) -> None:
            async def init(items: Registry) -> None:
                await anyio.lowlevel.checkpoint()
                items.add(module_id)
                order.append(module_id)

            env.register_init(deps={"items": ep}, init=init)

        return create_backend_module(plugin_id="todo", module_id=module_id, register=register)

    backend = create_specialized_backend(default_service_factories=[])
    backend.add(create_backend_plugin(plugin_id="todo", register=register_plugin))
    backend.add(module("one"))
    backend.add(module("two"))
    async with backend:
        pass
    assert sorted(order[:2]) == ["one", "two"]
    assert order[2] in ("plugin sees ['one', 'two']", "plugin sees ['two', 'one']")


async def test_module_providing_an_extension_point_runs_after_its_consumers() -> None:
    ep: ExtensionPoint[Registry] = create_extension_point(id="p.ext")
    order: list[str] = []
    collected = Registry()

    def provider(env: Any) -> None:
        env.register_extension_point(ep, collected)
        env.register_init(deps={}, init=lambda: order.append(f"provider {collected.items}"))

    def consumer(env: Any) -> None:
        def init(ext: Registry) -> None:
            ext.add("c")
            order.append("consumer")

        env.register_init(deps={"ext": ep}, init=init)

    backend = create_specialized_backend(default_service_factories=[])
    backend.add(plugin_with_init("p"))
    backend.add(create_backend_module(plugin_id="p", module_id="provider", register=provider))
    backend.add(create_backend_module(plugin_id="p", module_id="consumer", register=consumer))
    async with backend:
        pass
    assert order == ["consumer", "provider ['c']"]


async def test_extension_point_used_after_plugin_init_is_refused() -> None:
    ep: ExtensionPoint[Registry] = create_extension_point(id="todo.items")
    kept: list[Any] = []
    registry = Registry()

    def register_plugin(env: Any) -> None:
        env.register_extension_point(ep, registry)
        env.register_init(deps={}, init=lambda: None)

    def register_module(env: Any) -> None:
        env.register_init(deps={"items": ep}, init=lambda items: kept.append(items))

    backend = create_specialized_backend(default_service_factories=[])
    backend.add(create_backend_plugin(plugin_id="todo", register=register_plugin))
    backend.add(create_backend_module(plugin_id="todo", module_id="late", register=register_module))
    async with backend:
        with pytest.raises(ExtensionPointClosedError) as caught:
            kept[0].add("too late")
    assert str(caught.value) == (
        "Extension point 'todo.items' was used by module 'late' for plugin 'todo' after plugin "
        "'todo' started its init; extension points may only be used during module init"
    )
    assert registry.items == []


async def test_module_for_an_absent_plugin_is_skipped_with_a_warning() -> None:
    ran: list[str] = []

    def register(env: Any) -> None:
        env.register_init(deps={}, init=lambda: ran.append("module"))

    backend = create_specialized_backend(default_service_factories=[])
    backend.add(create_backend_module(plugin_id="absent", module_id="orphan", register=register))
    async with backend:
        result = backend.startup_result
    assert ran == []
    assert result.skipped_modules == [("absent", "orphan")]
    assert result.warnings == [
        "Module 'orphan' for plugin 'absent' was skipped because plugin 'absent' is not installed"
    ]


@st.composite
def acyclic_graphs(draw: st.DrawFn) -> dict[int, list[int]]:
    size = draw(st.integers(min_value=1, max_value=12))
    # Edges only point to lower numbers, so every drawn graph is acyclic.
    return {
        node: sorted(draw(st.sets(st.integers(0, node - 1), max_size=node)) if node else set())
        for node in range(size)
    }


@settings(max_examples=60, deadline=None)
@given(graph=acyclic_graphs(), root_mask=st.integers(min_value=0, max_value=2**12 - 1))
def test_start_order_respects_every_dependency_edge(
    graph: dict[int, list[int]], root_mask: int
) -> None:
    # A service may be root-scoped only if all its deps are root-scoped too.
    scopes: dict[int, ServiceScope] = {}
    for node in sorted(graph):
        root_ok = all(scopes[d] == "root" for d in graph[node])
        scopes[node] = "root" if root_ok and root_mask >> node & 1 else "plugin"
    refs: dict[int, ServiceRef[Any]] = {
        n: create_service_ref(id=f"svc.n{n}", scope=scopes[n]) for n in graph
    }
    built: list[int] = []

    def factory_for(node: int) -> Any:
        async def factory(**deps: Any) -> int:
            await anyio.lowlevel.checkpoint()
            built.append(node)
            return node

        return factory

    factories = [
        create_service_factory(
            service=refs[n], deps={f"d{d}": refs[d] for d in graph[n]}, factory=factory_for(n)
        )
        for n in graph
    ]

    async def main() -> None:
        backend = create_specialized_backend(default_service_factories=factories)
        backend.add(plugin_with_init("p", {f"s{n}": refs[n] for n in graph}))
        async with backend:
            pass

    anyio.run(main)
    position = {node: index for index, node in enumerate(built)}
    assert set(position) == set(graph)
    for node, deps in graph.items():
        for dep in deps:
            assert position[dep] < position[node]
