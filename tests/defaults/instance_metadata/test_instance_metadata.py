"""The legacy ``core.instanceMetadata``: plugins and their modules as one flat list."""

from __future__ import annotations

from typing import Any

import pytest

from backstage_runtime import (
    BackendFeatureMeta,
    create_backend_module,
    create_backend_plugin,
    instance_metadata_service_ref,
)
from backstage_runtime.testing import start_test_backend

pytestmark = pytest.mark.anyio


async def _nothing() -> None:
    pass


async def test_each_plugin_then_its_modules_in_registration_order() -> None:
    seen: dict[str, Any] = {}

    def register(env: Any) -> None:
        async def init(*, metadata: Any) -> None:
            seen["features"] = metadata.get_installed_features()

        env.register_init(deps={"metadata": instance_metadata_service_ref}, init=init)

    catalog = create_backend_plugin(plugin_id="catalog", register=register)
    search = create_backend_plugin(
        plugin_id="search", register=lambda env: env.register_init(deps={}, init=_nothing)
    )
    github = create_backend_module(
        plugin_id="catalog",
        module_id="github",
        register=lambda env: env.register_init(deps={}, init=_nothing),
    )
    async with start_test_backend(features=[catalog, search, github]):
        pass
    assert seen["features"] == (
        BackendFeatureMeta("plugin", "catalog"),
        BackendFeatureMeta("module", "catalog", "github"),
        BackendFeatureMeta("plugin", "search"),
    )
