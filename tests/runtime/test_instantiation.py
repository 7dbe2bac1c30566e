"""Factories are lazy; root services are built once, plugin services once per plugin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from _support.features import plugin_with_init

from backstage_runtime.api import (
    ServiceRef,
    core_services,
    create_service_factory,
    create_service_ref,
)
from backstage_runtime.runtime import create_specialized_backend

pytestmark = pytest.mark.anyio


async def test_unused_lazy_factories_are_never_built() -> None:
    built: list[str] = []
    lazy: ServiceRef[Any] = create_service_ref(id="svc.lazy")
    lazy_root: ServiceRef[Any] = create_service_ref(id="svc.lazyRoot", scope="root")
    backend = create_specialized_backend(
        default_service_factories=[
            create_service_factory(service=lazy, factory=lambda: built.append("plugin")),
            create_service_factory(
                service=lazy_root, factory=lambda: built.append("root"), initialization="lazy"
            ),
        ]
    )
    backend.add(plugin_with_init("p"))
    async with backend:
        pass
    assert built == []


async def test_eager_root_services_are_built_even_when_unused() -> None:
    built: list[str] = []
    root: ServiceRef[Any] = create_service_ref(id="svc.root", scope="root")
    backend = create_specialized_backend(
        default_service_factories=[
            create_service_factory(service=root, factory=lambda: built.append("root"))
        ]
    )
    async with backend:
        assert built == ["root"]


async def test_root_service_is_built_once_for_all_plugins() -> None:
    calls: list[int] = []
    root: ServiceRef[Any] = create_service_ref(id="svc.root", scope="root")

    def factory() -> object:
        calls.append(1)
        return object()

    received: list[object] = []
    backend = create_specialized_backend(
        default_service_factories=[create_service_factory(service=root, factory=factory)]
    )
    for plugin_id in ("a", "b", "c"):
        backend.add(plugin_with_init(plugin_id, {"root": root}, lambda root: received.append(root)))
    async with backend:
        pass
    assert len(calls) == 1
    assert len(received) == 3
    assert all(r is received[0] for r in received)


async def test_plugin_service_is_built_once_per_plugin_and_root_context_once() -> None:
    contexts: list[int] = []
    per_plugin: list[str] = []
    meta = core_services.plugin_metadata
    svc: ServiceRef[Any] = create_service_ref(id="svc.perPlugin")

    def create_root_context() -> str:
        contexts.append(1)
        return "shared"

    def factory(context: str, *, metadata: Any) -> str:
        per_plugin.append(metadata.get_id())
        return f"{context}:{metadata.get_id()}"

    other: ServiceRef[Any] = create_service_ref(id="svc.other")
    received: dict[str, list[str]] = {}
    backend = create_specialized_backend(
        default_service_factories=[
            create_service_factory(
                service=svc,
                deps={"metadata": meta},
                create_root_context=create_root_context,
                factory=factory,
            ),
            # A second consumer inside the same plugin must get the same instance.
            create_service_factory(service=other, deps={"svc": svc}, factory=lambda svc: svc),
        ]
    )
    for plugin_id in ("a", "b"):
        backend.add(
            plugin_with_init(
                plugin_id,
                {"svc": svc, "other": other},
                lambda svc, other, pid=plugin_id: received.setdefault(pid, [svc, other]),
            )
        )
    async with backend:
        pass
    assert contexts == [1]
    assert sorted(per_plugin) == ["a", "b"]
    assert received == {"a": ["shared:a", "shared:a"], "b": ["shared:b", "shared:b"]}


async def test_refs_are_keyed_by_id_not_identity() -> None:
    first: ServiceRef[Any] = create_service_ref(id="svc.same")
    second: ServiceRef[Any] = create_service_ref(id="svc.same")
    got: list[Any] = []
    backend = create_specialized_backend(
        default_service_factories=[create_service_factory(service=first, factory=lambda: 42)]
    )
    backend.add(plugin_with_init("p", {"value": second}, lambda value: got.append(value)))
    async with backend:
        pass
    assert got == [42]


async def test_explicit_factory_replaces_the_default() -> None:
    ref: ServiceRef[Any] = create_service_ref(id="svc.x")
    got: list[Any] = []
    backend = create_specialized_backend(
        default_service_factories=[create_service_factory(service=ref, factory=lambda: "default")]
    )
    backend.add(create_service_factory(service=ref, factory=lambda: "mine"))
    backend.add(plugin_with_init("p", {"x": ref}, lambda x: got.append(x)))
    async with backend:
        pass
    assert got == ["mine"]


async def test_default_factory_of_a_ref_is_used_when_nobody_provides_one() -> None:
    def default_factory(ref: ServiceRef[Any]) -> Any:
        return create_service_factory(service=ref, factory=lambda: "from default")

    ref: ServiceRef[Any] = create_service_ref(id="svc.withDefault", default_factory=default_factory)
    got: list[Any] = []
    backend = create_specialized_backend(default_service_factories=[])
    backend.add(plugin_with_init("p", {"x": ref}, lambda x: got.append(x)))
    async with backend:
        pass
    assert got == ["from default"]


async def test_multiton_without_factories_is_an_empty_list() -> None:
    ref: ServiceRef[Any] = create_service_ref(id="svc.many", multiton=True)
    got: list[Any] = []
    backend = create_specialized_backend(default_service_factories=[])
    backend.add(plugin_with_init("p", {"many": ref}, lambda many: got.append(many)))
    async with backend:
        pass
    assert got == [[]]


async def test_generator_factories_clean_up_at_stop_plugin_before_root() -> None:
    events: list[str] = []
    root: ServiceRef[Any] = create_service_ref(id="svc.root", scope="root")
    plugin: ServiceRef[Any] = create_service_ref(id="svc.plugin")

    async def root_factory() -> AsyncIterator[str]:
        events.append("root up")
        yield "root"
        events.append("root down")

    async def plugin_factory(root: str) -> AsyncIterator[str]:
        yield "plugin"
        events.append("plugin down")

    backend = create_specialized_backend(
        default_service_factories=[
            create_service_factory(service=root, factory=root_factory),
            create_service_factory(service=plugin, deps={"root": root}, factory=plugin_factory),
        ]
    )
    backend.add(plugin_with_init("p", {"plugin": plugin}))
    async with backend:
        assert events == ["root up"]
    assert events == ["root up", "plugin down", "root down"]


async def test_get_service_reads_a_running_backends_services() -> None:
    ref: ServiceRef[Any] = create_service_ref(id="svc.root", scope="root")
    backend = create_specialized_backend(
        default_service_factories=[create_service_factory(service=ref, factory=lambda: "value")]
    )
    async with backend:
        assert await backend.get_service(ref) == "value"


async def test_a_caller_cancelled_mid_build_does_not_poison_the_service() -> None:
    entered = anyio.Event()
    attempts = 0

    async def factory() -> str:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            entered.set()
            await anyio.sleep_forever()
        return f"built by attempt {attempts}"

    ref: ServiceRef[str] = create_service_ref(id="svc.slow", scope="root")
    backend = create_specialized_backend(
        default_service_factories=[
            create_service_factory(service=ref, factory=factory, initialization="lazy")
        ]
    )
    async with backend:
        async with anyio.create_task_group() as group:
            group.start_soon(backend.get_service, ref)
            await entered.wait()
            group.cancel_scope.cancel()
        assert await backend.get_service(ref) == "built by attempt 2"
        assert await backend.get_service(ref) == "built by attempt 2"
