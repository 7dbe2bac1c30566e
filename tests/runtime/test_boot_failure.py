"""A failing plugin or module aborts the start unless ``backend.startup`` says ``continue``."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
import pytest
from _support.features import plugin_with_init

from backstage_runtime import (
    Backend,
    ServiceRef,
    core_services,
    create_backend_module,
    create_service_factory,
    create_service_ref,
)
from backstage_runtime.api.errors import BackendStartupError
from backstage_runtime.defaults.root_logger import root_logger_service_factory
from backstage_runtime.runtime import create_specialized_backend
from backstage_runtime.testing import MockRootLogger, test_default_service_factories

pytestmark = pytest.mark.anyio


def failing(message: str = "init broke") -> Any:
    def init() -> None:
        raise ValueError(message)

    return init


def module(plugin_id: str, module_id: str, init: Any, record: list[str] | None = None) -> Any:
    def register(env: Any) -> None:
        def run() -> None:
            if record is not None:
                record.append(f"module {module_id}")
            init()

        env.register_init(deps={}, init=run)

    return create_backend_module(plugin_id=plugin_id, module_id=module_id, register=register)


def backend_with(
    *features: Any, config: Mapping[str, Any] | None = None
) -> tuple[Backend, MockRootLogger]:
    logger = MockRootLogger()
    backend = create_specialized_backend(
        default_service_factories=test_default_service_factories(config, logger)
    )
    for feature in features:
        backend.add(feature)
    return backend, logger


def continue_plugin(plugin_id: str, value: str = "continue") -> dict[str, Any]:
    return {"backend": {"startup": {"plugins": {plugin_id: {"onPluginBootFailure": value}}}}}


def continue_module(plugin_id: str, module_id: str, value: str = "continue") -> dict[str, Any]:
    setting = {"onPluginModuleBootFailure": value}
    return {"backend": {"startup": {"plugins": {plugin_id: {"modules": {module_id: setting}}}}}}


async def test_failing_plugin_aborts_start_with_a_startup_error() -> None:
    backend, _logger = backend_with(plugin_with_init("broken", init=failing("init broke")))
    with pytest.raises(BackendStartupError) as caught:
        async with backend:
            pytest.fail("the backend must not start")
    message = str(caught.value)
    assert message.startswith("Backend startup failed due to the following errors:\n")
    assert "\n  Plugin 'broken' startup failed; caused by ValueError: init broke" in message
    assert caught.value.failures == [
        "Plugin 'broken' startup failed; caused by ValueError: init broke"
    ]


async def test_manual_start_raises_the_startup_error_unwrapped() -> None:
    backend, _logger = backend_with(plugin_with_init("broken", init=failing()))
    with pytest.raises(BackendStartupError):
        await backend.start()
    assert not backend.started


async def test_every_failing_plugin_is_listed() -> None:
    backend, _logger = backend_with(
        plugin_with_init("one", init=failing("first")),
        plugin_with_init("two", init=failing("second")),
    )
    with pytest.raises(BackendStartupError) as caught:
        await backend.start()
    assert sorted(caught.value.failures) == [
        "Plugin 'one' startup failed; caused by ValueError: first",
        "Plugin 'two' startup failed; caused by ValueError: second",
    ]


async def test_other_plugins_still_start_and_everything_started_is_stopped() -> None:
    events: list[str] = []
    scoped: ServiceRef[Any] = create_service_ref(id="svc.scoped")

    async def scoped_factory() -> AsyncIterator[str]:
        yield "value"
        events.append("scoped cleanup")

    def healthy_init(lifecycle: Any, root: Any, svc: str) -> None:
        events.append("healthy init")
        lifecycle.add_shutdown_hook(lambda: events.append("healthy shutdown"))
        root.add_shutdown_hook(lambda: events.append("root shutdown"))

    backend, _logger = backend_with(
        create_service_factory(service=scoped, factory=scoped_factory),
        plugin_with_init("broken", init=failing()),
        plugin_with_init(
            "healthy",
            {
                "lifecycle": core_services.lifecycle,
                "root": core_services.root_lifecycle,
                "svc": scoped,
            },
            healthy_init,
        ),
    )
    with pytest.raises(BackendStartupError):
        await backend.start()
    assert events == ["healthy init", "healthy shutdown", "root shutdown", "scoped cleanup"]


async def test_root_startup_hooks_do_not_run_when_start_aborts() -> None:
    events: list[str] = []

    def init(root: Any) -> None:
        root.add_startup_hook(lambda: events.append("root startup"))

    backend, _logger = backend_with(
        plugin_with_init("broken", init=failing()),
        plugin_with_init("p", {"root": core_services.root_lifecycle}, init),
    )
    with pytest.raises(BackendStartupError):
        await backend.start()
    assert events == []


async def test_failed_plugins_startup_hooks_never_run() -> None:
    events: list[str] = []

    def init(lifecycle: Any) -> None:
        lifecycle.add_startup_hook(lambda: events.append("startup hook"))
        raise ValueError("after adding the hook")

    backend, _logger = backend_with(
        plugin_with_init("p", {"lifecycle": core_services.lifecycle}, init),
        config=continue_plugin("p"),
    )
    async with backend:
        assert events == []


async def test_plugin_boot_failure_continue_lets_start_succeed() -> None:
    backend, logger = backend_with(
        plugin_with_init("broken", init=failing("init broke")),
        plugin_with_init("fine"),
        config=continue_plugin("broken"),
    )
    async with backend:
        status = backend.startup_result.plugins["broken"]
        assert status.failure == "Plugin 'broken' startup failed; caused by ValueError: init broke"
        assert status.allowed is True
        assert not status.started
        assert backend.startup_result.plugins["fine"].started
        assert backend.startup_result.outcome == "success"
    [entry] = [e for e in logger.entries if e.level == "error"]
    assert entry.message == (
        "Plugin 'broken' threw an error during startup, but boot failure is permitted for this "
        "plugin so startup will continue."
    )
    # The error carries the context and the cause; the logger appends its text once.
    assert str(entry.error) == "Plugin 'broken' startup failed; caused by ValueError: init broke"
    assert entry.error is not None
    assert isinstance(entry.error.__cause__, ValueError)
    assert entry.fields["type"] == "initialization"


async def test_default_plugin_boot_failure_continue_applies_to_every_plugin() -> None:
    config = {"backend": {"startup": {"default": {"onPluginBootFailure": "continue"}}}}
    backend, _logger = backend_with(
        plugin_with_init("one", init=failing()),
        plugin_with_init("two", init=failing()),
        config=config,
    )
    async with backend:
        plugins = backend.startup_result.plugins
        assert [(plugins[p].started, plugins[p].allowed) for p in ("one", "two")] == [
            (False, True),
            (False, True),
        ]


async def test_plugin_setting_beats_the_default() -> None:
    config = {
        "backend": {
            "startup": {
                "default": {"onPluginBootFailure": "continue"},
                "plugins": {"strict": {"onPluginBootFailure": "abort"}},
            }
        }
    }
    backend, _logger = backend_with(
        plugin_with_init("lenient", init=failing()),
        plugin_with_init("strict", init=failing("strict broke")),
        config=config,
    )
    with pytest.raises(BackendStartupError) as caught:
        await backend.start()
    assert caught.value.failures == [
        "Plugin 'strict' startup failed; caused by ValueError: strict broke"
    ]


@pytest.mark.parametrize("value", ["Continue", "CONTINUE", " continue", "yes", True])
async def test_only_the_exact_string_continue_permits_a_plugin_failure(value: Any) -> None:
    backend, _logger = backend_with(
        plugin_with_init("broken", init=failing()), config=continue_plugin("broken", value)
    )
    with pytest.raises(BackendStartupError):
        await backend.start()


async def test_failing_module_aborts_by_default_and_its_plugin_never_initializes() -> None:
    events: list[str] = []
    backend, logger = backend_with(
        plugin_with_init("p", init=lambda: events.append("plugin init")),
        module("p", "bad", failing("module broke"), events),
    )
    with pytest.raises(BackendStartupError) as caught:
        await backend.start()
    assert caught.value.failures == [
        "Module 'bad' for plugin 'p' startup failed; caused by ValueError: module broke"
    ]
    assert "\n  Module 'bad' for plugin 'p' startup failed; caused by ValueError: module broke" in (
        str(caught.value)
    )
    assert events == ["module bad"]
    assert not backend.startup_result.plugins["p"].started
    assert "Plugin 'p' started" not in logger.messages("info")
    assert logger.messages("error") == [
        "Module 'bad' for plugin 'p' threw an error during startup."
    ]


async def test_a_failing_module_stops_only_its_own_plugin() -> None:
    events: list[str] = []
    backend, logger = backend_with(
        plugin_with_init("p", init=lambda: events.append("p init")),
        module("p", "bad", failing("module broke")),
        plugin_with_init("other", init=lambda: events.append("other init")),
    )
    with pytest.raises(BackendStartupError):
        await backend.start()
    assert events == ["other init"]
    assert backend.startup_result.plugins["other"].started
    assert "Plugin 'other' started" in logger.messages("info")


async def test_abort_line_says_how_many_other_plugins_are_still_starting() -> None:
    release = anyio.Event()

    async def slow() -> None:
        await release.wait()

    def fail_then_release() -> None:
        release.set()
        raise ValueError("broke")

    backend, logger = backend_with(
        plugin_with_init("slow", init=slow),
        plugin_with_init("broken", init=fail_then_release),
    )
    with pytest.raises(BackendStartupError):
        await backend.start()
    assert logger.messages("error") == [
        "Plugin 'broken' threw an error during startup, waiting for 1 other plugins to finish "
        "before shutting down the process."
    ]


async def test_module_boot_failure_continue_per_module() -> None:
    events: list[str] = []
    backend, logger = backend_with(
        plugin_with_init("p", init=lambda: events.append("plugin init")),
        module("p", "bad", failing("module broke")),
        module("p", "good", lambda: events.append("good module")),
        config=continue_module("p", "bad"),
    )
    async with backend:
        status = backend.startup_result.plugins["p"]
        assert status.started
        assert status.module_failures == {
            "bad": (
                "Module 'bad' for plugin 'p' startup failed; caused by ValueError: module broke",
                True,
            )
        }
        assert backend.startup_result.outcome == "success"
    assert sorted(events) == ["good module", "plugin init"]
    [entry] = [e for e in logger.entries if e.level == "error"]
    assert entry.message == (
        "Module 'bad' for plugin 'p' threw an error during startup, but boot failure is permitted "
        "for this plugin module so startup will continue."
    )
    assert str(entry.error) == (
        "Module 'bad' for plugin 'p' startup failed; caused by ValueError: module broke"
    )


async def test_module_continue_does_not_cover_other_modules() -> None:
    backend, _logger = backend_with(
        plugin_with_init("p"),
        module("p", "lenient", failing()),
        module("p", "strict", failing("strict broke")),
        config=continue_module("p", "lenient"),
    )
    with pytest.raises(BackendStartupError) as caught:
        await backend.start()
    assert caught.value.failures == [
        "Module 'strict' for plugin 'p' startup failed; caused by ValueError: strict broke"
    ]


async def test_plugin_continue_does_not_permit_its_module_failures() -> None:
    backend, _logger = backend_with(
        plugin_with_init("p"), module("p", "bad", failing()), config=continue_plugin("p")
    )
    with pytest.raises(BackendStartupError):
        await backend.start()


async def test_default_module_continue_permits_module_failures() -> None:
    config = {"backend": {"startup": {"default": {"onPluginModuleBootFailure": "continue"}}}}
    backend, _logger = backend_with(
        plugin_with_init("p"), module("p", "bad", failing()), config=config
    )
    async with backend:
        assert backend.startup_result.plugins["p"].module_failures["bad"][1] is True


async def test_only_the_exact_string_continue_permits_a_module_failure() -> None:
    backend, _logger = backend_with(
        plugin_with_init("p"),
        module("p", "bad", failing()),
        config=continue_module("p", "bad", "Continue"),
    )
    with pytest.raises(BackendStartupError):
        await backend.start()


async def test_failing_eager_root_service_propagates_its_error_and_nothing_starts() -> None:
    events: list[str] = []
    broken: ServiceRef[Any] = create_service_ref(id="svc.broken", scope="root")
    later: ServiceRef[Any] = create_service_ref(id="svc.later", scope="root")
    boom = ValueError("root service broke")

    def broken_factory() -> None:
        raise boom

    backend = create_specialized_backend(
        default_service_factories=[
            create_service_factory(service=broken, factory=broken_factory),
            create_service_factory(service=later, factory=lambda: events.append("later built")),
        ]
    )
    backend.add(plugin_with_init("p", init=lambda: events.append("plugin init")))
    with pytest.raises(ValueError, match=r"^root service broke$") as caught:
        await backend.start()
    assert caught.value is boom
    assert events == []
    assert not backend.started


@pytest.mark.parametrize("log_format", ["json", "pretty"])
async def test_a_startup_failure_line_says_the_error_once(log_format: str) -> None:
    stream = io.StringIO()
    backend, _logger = backend_with(
        plugin_with_init("broken", init=failing("boom")),
        root_logger_service_factory(stream=stream, env={"LOG_FORMAT": log_format}, colors=False),
    )
    with pytest.raises(BackendStartupError):
        await backend.start()
    [line] = [
        line for line in stream.getvalue().splitlines() if "threw an error during startup" in line
    ]
    message = json.loads(line)["message"] if log_format == "json" else line
    assert (
        "Plugin 'broken' threw an error during startup. "
        "Plugin 'broken' startup failed; caused by ValueError: boom"
    ) in message
    assert message.count("boom") == 1
