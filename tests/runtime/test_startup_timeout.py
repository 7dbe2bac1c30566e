"""``backend.startup.timeout`` bounds the plugins' start; a cancelled start names the plugins
that were still starting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio
import pytest
from _support.features import plugin_with_init
from _support.polling import eventually

from backstage_runtime import Backend, core_services
from backstage_runtime.api.errors import BackendStartupError, ConfigError
from backstage_runtime.runtime import create_specialized_backend
from backstage_runtime.testing import MockRootLogger, test_default_service_factories

pytestmark = pytest.mark.anyio


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


def timeout_config(value: Any) -> dict[str, Any]:
    return {"backend": {"startup": {"timeout": value}}}


def quick_with_shutdown_hook(events: list[str]) -> Any:
    def init(lifecycle: Any) -> None:
        lifecycle.add_shutdown_hook(lambda: events.append("quick shut down"))

    return plugin_with_init("quick", {"lifecycle": core_services.lifecycle}, init)


async def test_the_timeout_fails_the_start_naming_only_the_plugins_still_starting() -> None:
    events: list[str] = []
    backend, logger = backend_with(
        plugin_with_init("hanging", init=anyio.sleep_forever),
        quick_with_shutdown_hook(events),
        config=timeout_config({"milliseconds": 50}),
    )

    with pytest.raises(BackendStartupError) as caught:
        async with backend:
            pass

    assert str(caught.value) == (
        "Backend startup failed due to the following errors:\n"
        "  Plugin 'hanging' startup failed; caused by TimeoutError: it did not finish within "
        "backend.startup.timeout (0.05s)"
    )
    # What had started is stopped again.
    assert events == ["quick shut down"]
    assert backend.startup_result.plugins["hanging"].failure == caught.value.failures[0]
    assert backend.startup_result.plugins["quick"].started
    assert caught.value.failures[0] in logger.messages("error")


async def test_a_start_within_the_timeout_is_unaffected() -> None:
    backend, _logger = backend_with(
        plugin_with_init("quick"), config=timeout_config({"seconds": 30})
    )

    async with backend:
        assert backend.startup_result.outcome == "success"


@pytest.mark.parametrize("value", [{"seconds": 0}, "soon"])
async def test_an_invalid_timeout_is_a_config_error_naming_the_key(value: Any) -> None:
    backend, _logger = backend_with(plugin_with_init("quick"), config=timeout_config(value))

    with pytest.raises(ConfigError, match=r"backend\.startup\.timeout"):
        async with backend:
            pass


async def test_a_cancelled_start_logs_the_plugins_still_starting() -> None:
    entered = anyio.Event()

    async def hang() -> None:
        entered.set()
        await anyio.sleep_forever()

    backend, logger = backend_with(
        plugin_with_init("hanging", init=hang), plugin_with_init("quick")
    )

    async with anyio.create_task_group() as group:

        async def start() -> None:
            async with backend:
                pass  # pragma: no cover - the start never completes

        group.start_soon(start)
        await entered.wait()
        await eventually(lambda: "Plugin 'quick' started" in logger.messages("info"))
        group.cancel_scope.cancel()

    assert logger.messages("warn") == [
        "Backend startup cancelled while plugins were still starting: 'hanging'"
    ]
    assert not backend.started
