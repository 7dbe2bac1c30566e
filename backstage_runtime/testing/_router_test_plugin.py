"""``create_router_test_plugin``: one router served alone by a test backend.

Backstage tests a plugin's router apart from the plugin with
``express().use(router).use(mockErrorHandler())`` and supertest. Here the router is a Quart
blueprint that needs the plugin's services (``http_auth``, a logger...), so the helper builds it
inside a one-plugin backend from those services and mounts it as the plugin would: the
credentials barrier, the auth policies and the Backstage error JSON all apply, as in production.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from ..api import (
    AuthPolicyAllow,
    BackendPlugin,
    HttpRouterService,
    PluginRegistrationPoints,
    ServiceRef,
    core_services,
    create_backend_plugin,
)

__all__ = ["create_router_test_plugin"]


def create_router_test_plugin(
    create_router: Callable[..., Any],
    *,
    plugin_id: str = "test",
    deps: Mapping[str, ServiceRef[Any]] | None = None,
    auth_policies: Mapping[str, AuthPolicyAllow] | None = None,
) -> BackendPlugin:
    """A plugin ``plugin_id`` whose only work is mounting what ``create_router`` returns.

    ``create_router`` is called at the plugin's init with ``deps`` as keyword arguments and
    returns the blueprint (or ASGI app) to mount at ``/api/<plugin_id>``; it may be ``async``.
    Without ``deps``, its parameters name core services (``http_auth``, ``logger``,
    ``database``, ... as in ``core_services``), so a lambda is enough::

        plugin = create_router_test_plugin(
            lambda http_auth: create_router(http_auth=http_auth, store=store),
            plugin_id="user-settings",
        )
        async with start_test_backend(features=[plugin]) as backend:
            reply = await backend.request("GET", "/api/user-settings/buckets/a/keys/b")

    ``auth_policies`` maps paths (relative to the mount point) to what they allow without
    credentials, as ``http_router.add_auth_policy`` does. Raises :class:`TypeError` naming the
    parameter when a parameter of ``create_router`` is no core service and ``deps`` is not
    given; at the backend's start, a ``create_router`` that returns None fails the plugin.
    """
    wanted = dict(deps) if deps is not None else _core_service_deps(create_router)
    policies = dict(auth_policies or {})

    def register(env: PluginRegistrationPoints) -> None:
        async def init(**services: Any) -> None:
            http_router: HttpRouterService = services["http_router"]
            router = create_router(**{name: services[name] for name in wanted})
            if inspect.isawaitable(router):
                router = await router
            if router is None:
                raise TypeError(
                    f"create_router of the test plugin '{plugin_id}' returned None; it must "
                    "return the blueprint (or ASGI app) to mount"
                )
            for path, allow in policies.items():
                http_router.add_auth_policy(path=path, allow=allow)
            http_router.use(router)

        # The plugin's own router is always needed, whether create_router asks for it or not.
        env.register_init(deps={**wanted, "http_router": core_services.http_router}, init=init)

    return create_backend_plugin(plugin_id=plugin_id, register=register)


def _core_service_deps(create_router: Callable[..., Any]) -> dict[str, ServiceRef[Any]]:
    """``{parameter name: core service ref}`` for the parameters of ``create_router``."""
    try:
        parameters = inspect.signature(create_router).parameters.values()
    except (TypeError, ValueError):
        raise TypeError(
            f"Cannot read the parameters of {create_router!r}; pass deps={{name: ref}}"
        ) from None
    deps: dict[str, ServiceRef[Any]] = {}
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        ref = getattr(core_services, parameter.name, None)
        if isinstance(ref, ServiceRef):
            deps[parameter.name] = ref
        elif parameter.default is parameter.empty:
            raise TypeError(
                f"Parameter '{parameter.name}' of create_router is not a core service (one of "
                f"{', '.join(_core_service_names())}); pass deps={{'{parameter.name}': ref}}"
            )
    return deps


def _core_service_names() -> list[str]:
    return sorted(
        name for name in dir(core_services) if isinstance(getattr(core_services, name), ServiceRef)
    )
