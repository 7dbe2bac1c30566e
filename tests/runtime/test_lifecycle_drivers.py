"""A replacement lifecycle service must also be a lifecycle driver, or the backend says why."""

from __future__ import annotations

from typing import Any

import pytest
from _support.features import plugin_with_init

from backstage_runtime.api import (
    PluginLifecycleDriver,
    RootLifecycleDriver,
    core_services,
    create_service_factory,
)
from backstage_runtime.api.errors import BackendStartupError
from backstage_runtime.runtime import LifecycleDriverError, create_specialized_backend
from backstage_runtime.testing import (
    MockRootLogger,
    start_test_backend,
    test_default_service_factories,
)

pytestmark = pytest.mark.anyio


class HooksOnly:
    """Accepts hooks but cannot run them: what a careless replacement looks like."""

    def add_startup_hook(self, hook: Any, **_options: Any) -> None: ...
    def add_shutdown_hook(self, hook: Any, **_options: Any) -> None: ...
    def add_before_shutdown_hook(self, hook: Any, **_options: Any) -> None: ...


class StartsOnly(HooksOnly):
    """Runs startup hooks only; ``shutdown`` is there but not callable."""

    shutdown = None

    async def startup(self) -> None: ...


def backend_with(*factories: Any) -> Any:
    defaults = [
        f
        for f in test_default_service_factories({}, MockRootLogger())
        if f.service.id not in {factory.service.id for factory in factories}
    ]
    return create_specialized_backend(default_service_factories=[*defaults, *factories])


async def test_the_default_lifecycles_are_drivers() -> None:
    async with start_test_backend(features=[plugin_with_init("p")]) as test:
        lifecycle = await test.backend.get_service(core_services.lifecycle, "p")
        root = await test.backend.get_service(core_services.root_lifecycle)
    assert isinstance(lifecycle, PluginLifecycleDriver)
    assert isinstance(root, RootLifecycleDriver)


async def test_a_plugin_lifecycle_without_driver_methods_fails_the_plugin_naming_them() -> None:
    backend = backend_with(
        create_service_factory(service=core_services.lifecycle, factory=StartsOnly)
    )
    backend.add(plugin_with_init("p"))
    with pytest.raises(BackendStartupError) as caught:
        async with backend:
            pass
    [error] = caught.value.errors
    assert isinstance(error, LifecycleDriverError)
    assert str(error) == (
        "The implementation of service 'core.lifecycle' for plugin 'p' (StartsOnly) does not "
        "implement PluginLifecycleDriver: missing shutdown; a replacement lifecycle service must "
        "also provide the methods the backend calls to run its hooks"
    )


async def test_a_root_lifecycle_without_driver_methods_fails_the_start_naming_them() -> None:
    backend = backend_with(
        create_service_factory(service=core_services.root_lifecycle, factory=HooksOnly)
    )
    backend.add(plugin_with_init("p"))
    with pytest.raises(LifecycleDriverError) as caught:
        async with backend:
            pass
    assert str(caught.value) == (
        "The implementation of service 'core.rootLifecycle' (HooksOnly) does not implement "
        "RootLifecycleDriver: missing startup, before_shutdown, shutdown; a replacement "
        "lifecycle service must also provide the methods the backend calls to run its hooks"
    )
    assert caught.value.name == "LifecycleDriverError"
