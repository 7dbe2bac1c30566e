"""A backend's services reach a dependency-injector container, and the reverse."""

from __future__ import annotations

from typing import Any

import pytest
from _support.features import plugin_with_init
from dependency_injector import providers

from backstage_runtime import ServiceRef, core_services, create_backend, create_service_ref
from backstage_runtime.integrations.dependency_injector import (
    expose_services,
    service_factory_from_provider,
)

pytestmark = pytest.mark.anyio


async def test_expose_services_gives_a_container_the_running_backends_instances() -> None:
    backend = create_backend(config={"app": {"title": "Portal"}}, serve_http=False)
    async with backend:
        container = await expose_services(
            backend,
            {"config": core_services.root_config, "logger": core_services.logger},
            plugin_id="catalog",
        )
        assert container.config().get_string("app.title") == "Portal"
        assert container.config() is await backend.get_service(core_services.root_config)
        assert container.logger() is await backend.get_service(core_services.logger, "catalog")


async def test_a_provider_of_the_application_serves_a_backend_ref() -> None:
    class Clock:
        def now(self) -> int:
            return 42

    clock_ref: ServiceRef[Clock] = create_service_ref(id="app.clock", scope="root")
    provider = providers.Singleton(Clock)
    seen: list[Any] = []
    backend = create_backend(
        features=[
            service_factory_from_provider(clock_ref, provider),
            plugin_with_init("a", {"clock": clock_ref}, lambda clock: seen.append(clock)),
            plugin_with_init("b", {"clock": clock_ref}, lambda clock: seen.append(clock)),
        ],
        serve_http=False,
    )
    async with backend:
        pass
    assert len(seen) == 2
    assert seen[0] is seen[1] is provider()
    assert seen[0].now() == 42


def test_a_non_provider_is_refused_naming_the_ref() -> None:
    ref: ServiceRef[Any] = create_service_ref(id="app.thing")
    with pytest.raises(TypeError, match=r"for .app\.thing. needs a dependency_injector provider"):
        service_factory_from_provider(ref, object())
