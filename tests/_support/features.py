"""Small features for container tests: plugins that record what happened to them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from backstage_runtime.api import (
    BackendPlugin,
    ServiceRef,
    create_backend_plugin,
)


def plugin_with_init(
    plugin_id: str,
    deps: Mapping[str, ServiceRef[Any]] | None = None,
    init: Callable[..., Any] | None = None,
) -> BackendPlugin:
    """A plugin whose init receives ``deps`` and calls ``init`` (default: does nothing)."""

    def register(env: Any) -> None:
        async def run(**kwargs: Any) -> None:
            if init is not None:
                result = init(**kwargs)
                if hasattr(result, "__await__"):
                    await result

        env.register_init(deps=dict(deps or {}), init=run)

    return create_backend_plugin(plugin_id=plugin_id, register=register)
