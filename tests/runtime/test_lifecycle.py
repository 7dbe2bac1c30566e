"""Lifecycle hooks: stop order, startup timing, concurrency, failures and timeouts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest
from _support.features import plugin_with_init

from backstage_runtime import core_services, create_backend
from backstage_runtime.api import ServiceRef
from backstage_runtime.testing import start_test_backend

pytestmark = pytest.mark.anyio

LIFECYCLES: dict[str, ServiceRef[Any]] = {
    "lifecycle": core_services.lifecycle,
    "root": core_services.root_lifecycle,
}


def recorder(events: list[str], name: str) -> Callable[[], None]:
    def hook() -> None:
        events.append(name)

    return hook


def meeting(me: anyio.Event, other: anyio.Event, met: list[str], name: str) -> Any:
    """A hook that only completes if ``other`` is set while it waits: proves concurrency."""

    async def hook() -> None:
        me.set()
        with anyio.fail_after(5):
            await other.wait()
        met.append(name)

    return hook


async def test_stop_runs_before_shutdown_then_plugin_then_root_shutdown_hooks() -> None:
    events: list[str] = []

    def init_for(plugin_id: str) -> Callable[..., None]:
        def init(lifecycle: Any, root: Any) -> None:
            lifecycle.add_shutdown_hook(recorder(events, f"plugin {plugin_id}"))
            root.add_shutdown_hook(recorder(events, f"root from {plugin_id}"))
            root.add_before_shutdown_hook(recorder(events, f"before from {plugin_id}"))

        return init

    backend = create_backend(
        features=[
            plugin_with_init("a", LIFECYCLES, init_for("a")),
            plugin_with_init("b", LIFECYCLES, init_for("b")),
        ],
        config={"backend": {"lifecycle": {"shutdownHookTimeout": "5s"}}},
        serve_http=False,
    )
    async with backend:
        assert events == []
    assert sorted(events[:2]) == ["before from a", "before from b"]
    assert sorted(events[2:4]) == ["plugin a", "plugin b"]
    assert sorted(events[4:]) == ["root from a", "root from b"]


async def test_plugin_startup_hooks_run_after_its_init_and_root_startup_after_all() -> None:
    events: list[str] = []
    a_started = anyio.Event()

    def init_a(lifecycle: Any, root: Any) -> None:
        root.add_startup_hook(recorder(events, "root startup"))

        def started() -> None:
            events.append("startup a")
            a_started.set()

        lifecycle.add_startup_hook(started)
        events.append("init a")

    async def init_b(lifecycle: Any, root: Any) -> None:
        lifecycle.add_startup_hook(recorder(events, "startup b"))
        # b finishes only after a has fully started: root startup must still wait for b.
        with anyio.fail_after(5):
            await a_started.wait()
        events.append("init b")

    async with start_test_backend(
        features=[
            plugin_with_init("a", LIFECYCLES, init_a),
            plugin_with_init("b", LIFECYCLES, init_b),
        ]
    ):
        assert events == ["init a", "startup a", "init b", "startup b", "root startup"]


async def test_startup_hooks_do_not_run_before_the_init_that_added_them_returns() -> None:
    events: list[str] = []

    def init(lifecycle: Any) -> None:
        lifecycle.add_startup_hook(recorder(events, "hook"))
        events.append("init done")

    async with start_test_backend(
        features=[plugin_with_init("p", {"lifecycle": core_services.lifecycle}, init)]
    ):
        assert events == ["init done", "hook"]


async def test_hooks_of_one_plugin_phase_run_concurrently() -> None:
    met: list[str] = []
    first, second = anyio.Event(), anyio.Event()

    def init(lifecycle: Any) -> None:
        lifecycle.add_shutdown_hook(meeting(first, second, met, "first"))
        lifecycle.add_shutdown_hook(meeting(second, first, met, "second"))

    async with start_test_backend(
        features=[plugin_with_init("p", {"lifecycle": core_services.lifecycle}, init)]
    ) as test:
        pass
    assert sorted(met) == ["first", "second"]
    assert test.logger.messages("error") == []


async def test_shutdown_hooks_of_different_plugins_run_concurrently() -> None:
    met: list[str] = []
    a_in, b_in = anyio.Event(), anyio.Event()

    async with start_test_backend(
        features=[
            plugin_with_init(
                "a",
                {"lifecycle": core_services.lifecycle},
                lambda lifecycle: lifecycle.add_shutdown_hook(meeting(a_in, b_in, met, "a")),
            ),
            plugin_with_init(
                "b",
                {"lifecycle": core_services.lifecycle},
                lambda lifecycle: lifecycle.add_shutdown_hook(meeting(b_in, a_in, met, "b")),
            ),
        ]
    ) as test:
        pass
    assert sorted(met) == ["a", "b"]
    assert test.logger.messages("error") == []


async def test_root_startup_and_before_shutdown_hooks_run_concurrently() -> None:
    met: list[str] = []
    events = [anyio.Event() for _ in range(4)]

    def init(root: Any) -> None:
        root.add_startup_hook(meeting(events[0], events[1], met, "startup 1"))
        root.add_startup_hook(meeting(events[1], events[0], met, "startup 2"))
        root.add_before_shutdown_hook(meeting(events[2], events[3], met, "before 1"))
        root.add_before_shutdown_hook(meeting(events[3], events[2], met, "before 2"))

    async with start_test_backend(
        features=[plugin_with_init("p", {"root": core_services.root_lifecycle}, init)]
    ) as test:
        assert sorted(met) == ["startup 1", "startup 2"]
    assert sorted(met) == ["before 1", "before 2", "startup 1", "startup 2"]
    assert test.logger.messages("error") == []


async def test_failing_shutdown_hook_is_logged_and_the_others_still_run() -> None:
    events: list[str] = []
    boom = ValueError("boom")

    def failing() -> None:
        raise boom

    def init(lifecycle: Any, root: Any) -> None:
        lifecycle.add_shutdown_hook(failing)
        lifecycle.add_shutdown_hook(recorder(events, "sibling"))
        root.add_shutdown_hook(recorder(events, "root"))

    async with start_test_backend(features=[plugin_with_init("p", LIFECYCLES, init)]) as test:
        pass
    assert events == ["sibling", "root"]
    [entry] = [e for e in test.logger.entries if e.error is boom]
    assert entry.level == "error"
    assert entry.message == "Shutdown hook failed"
    assert entry.fields["plugin"] == "p"


async def test_failing_startup_hook_is_logged_and_start_still_succeeds() -> None:
    events: list[str] = []

    async def failing() -> None:
        raise RuntimeError("startup hook broke")

    def init(root: Any) -> None:
        root.add_startup_hook(failing)
        root.add_startup_hook(recorder(events, "other"))

    async with start_test_backend(
        features=[plugin_with_init("p", {"root": core_services.root_lifecycle}, init)]
    ) as test:
        assert events == ["other"]
        assert test.backend.started
        errors = [e for e in test.logger.entries if e.level == "error"]
        assert [e.message for e in errors] == ["Startup hook failed"]
        assert str(errors[0].error) == "startup hook broke"


async def test_hook_exceeding_the_shutdown_timeout_is_cut_off_and_stop_continues() -> None:
    events: list[str] = []
    hanging = anyio.Event()

    async def hang() -> None:
        events.append("hang began")
        await hanging.wait()  # never set
        events.append("hang finished")

    def init(lifecycle: Any, root: Any) -> None:
        lifecycle.add_shutdown_hook(hang)
        root.add_shutdown_hook(recorder(events, "root shutdown"))

    async with start_test_backend(
        features=[plugin_with_init("p", LIFECYCLES, init)],
        config={"backend": {"lifecycle": {"shutdownHookTimeout": "100ms"}}},
    ) as test:
        pass
    assert events == ["hang began", "root shutdown"]
    [entry] = [e for e in test.logger.entries if "timed out" in e.message]
    assert entry.level == "error"
    assert entry.message == "Shutdown hook timed out after 0.1s"
    assert entry.fields["plugin"] == "p"


async def test_adding_a_startup_hook_after_startup_raises() -> None:
    captured: dict[str, Any] = {}

    def init(lifecycle: Any, root: Any) -> None:
        captured.update(lifecycle=lifecycle, root=root)

    async with start_test_backend(features=[plugin_with_init("p", LIFECYCLES, init)]):
        for name in ("lifecycle", "root"):
            with pytest.raises(
                RuntimeError, match=r"^Attempted to add startup hook after startup$"
            ):
                captured[name].add_startup_hook(lambda: None)


async def test_adding_a_shutdown_hook_after_shutdown_raises() -> None:
    captured: dict[str, Any] = {}

    def init(lifecycle: Any, root: Any) -> None:
        captured.update(lifecycle=lifecycle, root=root)

    async with start_test_backend(features=[plugin_with_init("p", LIFECYCLES, init)]):
        pass
    for name in ("lifecycle", "root"):
        with pytest.raises(RuntimeError, match=r"^Attempted to add shutdown hook after shutdown$"):
            captured[name].add_shutdown_hook(lambda: None)
    with pytest.raises(
        RuntimeError, match=r"^Attempt to add before shutdown hook after shutdown has started$"
    ):
        captured["root"].add_before_shutdown_hook(lambda: None)


async def test_stop_is_idempotent() -> None:
    events: list[str] = []

    def init(lifecycle: Any, root: Any) -> None:
        lifecycle.add_shutdown_hook(recorder(events, "plugin"))
        root.add_before_shutdown_hook(recorder(events, "before"))
        root.add_shutdown_hook(recorder(events, "root"))

    backend = create_backend(
        features=[plugin_with_init("p", LIFECYCLES, init)], config={}, serve_http=False
    )
    async with backend:
        await backend.stop()
        assert events == ["before", "plugin", "root"]
        await backend.stop()
    await backend.stop()
    assert events == ["before", "plugin", "root"]
