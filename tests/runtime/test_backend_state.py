"""The backend's states: add, start and stop in order; several backends side by side."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel
import pytest
from _support.features import plugin_with_init

from backstage_runtime import (
    ServiceRef,
    core_services,
    create_service_factory,
    create_service_ref,
    runtime_services,
)
from backstage_runtime.runtime import BackendStateError, create_specialized_backend
from backstage_runtime.testing import (
    MockRootLogger,
    start_test_backend,
    test_default_service_factories,
)

pytestmark = pytest.mark.anyio


async def test_adding_after_start_raises() -> None:
    backend = create_specialized_backend(default_service_factories=[])
    async with backend:
        with pytest.raises(
            BackendStateError, match=r"^feature can not be added after the backend has started$"
        ):
            backend.add(plugin_with_init("late"))


async def test_adding_after_stop_raises() -> None:
    backend = create_specialized_backend(default_service_factories=[])
    async with backend:
        pass
    with pytest.raises(BackendStateError, match=r"can not be added after the backend has started"):
        backend.add(plugin_with_init("late"))


async def test_second_start_raises() -> None:
    backend = create_specialized_backend(default_service_factories=[])
    await backend.start()
    try:
        with pytest.raises(BackendStateError, match=r"^Backend has already started$"):
            await backend.start()
        with pytest.raises(BackendStateError, match=r"^Backend has already started$"):
            async with backend:
                pass
    finally:
        await backend.stop()


async def test_start_after_stop_raises() -> None:
    backend = create_specialized_backend(default_service_factories=[])
    async with backend:
        pass
    with pytest.raises(BackendStateError, match=r"^Backend has already stopped$"):
        await backend.start()
    with pytest.raises(BackendStateError, match=r"^Backend has already stopped$"):
        async with backend:
            pass


async def test_start_after_a_failed_start_raises() -> None:
    def broken() -> None:
        raise ValueError("broken")

    backend = create_specialized_backend(default_service_factories=[])
    backend.add(plugin_with_init("p", init=broken))
    with pytest.raises(Exception, match=r"broken"):
        await backend.start()
    with pytest.raises(BackendStateError, match=r"^Backend has already stopped$"):
        await backend.start()


async def test_stop_before_start_is_a_noop_that_forbids_a_later_start() -> None:
    backend = create_specialized_backend(default_service_factories=[])
    await backend.stop()
    with pytest.raises(BackendStateError, match=r"^Backend has already stopped$"):
        await backend.start()


async def test_manual_start_and_stop_run_hooks() -> None:
    events: list[str] = []

    def init(lifecycle: Any) -> None:
        events.append("init")
        lifecycle.add_shutdown_hook(lambda: events.append("shutdown"))

    backend = create_specialized_backend(
        default_service_factories=test_default_service_factories(None, MockRootLogger())
    )
    backend.add(plugin_with_init("p", {"lifecycle": core_services.lifecycle}, init))
    result = await backend.start()
    assert backend.started
    assert result.outcome == "success"
    assert events == ["init"]
    await backend.stop()
    assert not backend.started
    assert events == ["init", "shutdown"]


async def test_background_tasks_are_cancelled_at_stop() -> None:
    running = anyio.Event()
    outcome: list[str] = []

    async def task() -> None:
        running.set()
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            outcome.append("cancelled")
            raise

    async def init(tasks: Any) -> None:
        tasks.start_soon(task, name="forever")

    backend = create_specialized_backend(default_service_factories=[])
    backend.add(plugin_with_init("p", {"tasks": runtime_services.background_tasks}, init))
    await backend.start()
    with anyio.fail_after(5):
        await running.wait()
    assert outcome == []
    await backend.stop()
    assert outcome == ["cancelled"]


async def test_background_tasks_are_cancelled_at_the_end_of_async_with() -> None:
    running = anyio.Event()
    outcome: list[str] = []

    async def task() -> None:
        running.set()
        try:
            await anyio.sleep_forever()
        finally:
            outcome.append("ended")

    backend = create_specialized_backend(default_service_factories=[])
    async with backend:
        tasks = await backend.get_service(runtime_services.background_tasks)
        tasks.start_soon(task, name="forever")
        with anyio.fail_after(5):
            await running.wait()
    assert outcome == ["ended"]


async def test_failing_background_task_is_logged_and_the_backend_keeps_running() -> None:
    failed = anyio.Event()

    async def task() -> None:
        failed.set()
        raise ValueError("task broke")

    async with start_test_backend() as test:
        tasks = await test.get_service(runtime_services.background_tasks)
        tasks.start_soon(task, name="breaks")
        with anyio.fail_after(5):
            await failed.wait()
            while not test.logger.messages("error"):
                await anyio.lowlevel.checkpoint()
        assert test.backend.started
        [entry] = [e for e in test.logger.entries if e.level == "error"]
        assert entry.message == "Background task 'breaks' failed"
        assert str(entry.error) == "task broke"


async def test_two_backends_with_the_same_plugin_ids_do_not_share_instances() -> None:
    root: ServiceRef[Any] = create_service_ref(id="svc.root", scope="root")
    scoped: ServiceRef[Any] = create_service_ref(id="svc.scoped")
    seen: dict[str, list[object]] = {"first": [], "second": []}

    def make(name: str) -> Any:
        backend = create_specialized_backend(
            default_service_factories=[
                create_service_factory(service=root, factory=object),
                create_service_factory(service=scoped, factory=object),
            ]
        )
        backend.add(
            plugin_with_init(
                "catalog",
                {"root": root, "scoped": scoped},
                lambda root, scoped: seen[name].extend([root, scoped]),
            )
        )
        return backend

    first, second = make("first"), make("second")
    async with first, second:
        assert first.started
        assert second.started
        assert await first.get_service(root) is seen["first"][0]
        assert await second.get_service(root) is seen["second"][0]
        assert await first.get_service(scoped, "catalog") is seen["first"][1]
        assert await second.get_service(scoped, "catalog") is seen["second"][1]
    first_root, first_scoped = seen["first"]
    second_root, second_scoped = seen["second"]
    assert first_root is not second_root
    assert first_scoped is not second_scoped


async def test_stopping_one_backend_leaves_the_other_running() -> None:
    events: list[str] = []

    def make(name: str) -> Any:
        def init(lifecycle: Any) -> None:
            lifecycle.add_shutdown_hook(lambda: events.append(f"{name} stopped"))

        return plugin_with_init("same", {"lifecycle": core_services.lifecycle}, init)

    async with start_test_backend(features=[make("first")]) as first:
        async with start_test_backend(features=[make("second")]) as second:
            await first.backend.stop()
            assert events == ["first stopped"]
            assert second.backend.started
            assert not first.backend.started
        assert events == ["first stopped", "second stopped"]


async def test_get_service_for_a_plugin_scoped_ref_needs_a_plugin_id() -> None:
    async with start_test_backend(features=[plugin_with_init("p")]) as test:
        with pytest.raises(BackendStateError, match=r"'core.logger' is plugin-scoped"):
            await test.backend.get_service(core_services.logger)
        logger = await test.backend.get_service(core_services.logger, "p")
        assert logger is not None


async def test_get_service_outside_a_running_backend_raises() -> None:
    backend = create_specialized_backend(default_service_factories=[])
    with pytest.raises(BackendStateError, match=r"only available while the backend runs"):
        await backend.get_service(runtime_services.background_tasks)
    async with backend:
        pass
    with pytest.raises(BackendStateError, match=r"only available while the backend runs"):
        await backend.get_service(runtime_services.background_tasks)


async def test_startup_result_before_start_raises() -> None:
    backend = create_specialized_backend(default_service_factories=[])
    with pytest.raises(BackendStateError, match=r"has not been started"):
        _ = backend.startup_result
