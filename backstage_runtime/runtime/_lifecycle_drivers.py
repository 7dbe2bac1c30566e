"""Checks that the lifecycle services the runtime drives have the methods it calls."""

from __future__ import annotations

from typing import cast

from ..api import PluginLifecycleDriver, RootLifecycleDriver
from ..api.errors import BackstageError

__all__ = ["LifecycleDriverError", "as_plugin_driver", "as_root_driver"]


class LifecycleDriverError(BackstageError):
    """A lifecycle service implementation lacks the methods the runtime calls to run its hooks
    (see :class:`~backstage_runtime.api.PluginLifecycleDriver` and
    :class:`~backstage_runtime.api.RootLifecycleDriver`).
    """

    name = "LifecycleDriverError"


def as_plugin_driver(service: object, service_id: str, plugin_id: str) -> PluginLifecycleDriver:
    """``service`` as a plugin lifecycle driver; raises :class:`LifecycleDriverError` naming the
    service, the plugin and the missing methods otherwise.
    """
    which = f"'{service_id}' for plugin '{plugin_id}'"
    _check(service, "PluginLifecycleDriver", _PLUGIN_METHODS, which)
    return cast(PluginLifecycleDriver, service)


def as_root_driver(service: object, service_id: str) -> RootLifecycleDriver:
    """``service`` as the root lifecycle driver; raises :class:`LifecycleDriverError` naming the
    service and the missing methods otherwise.
    """
    _check(service, "RootLifecycleDriver", _ROOT_METHODS, f"'{service_id}'")
    return cast(RootLifecycleDriver, service)


# Spelled out rather than read from the Protocols: their attribute sets are a typing detail.
_PLUGIN_METHODS = ("startup", "shutdown")
_ROOT_METHODS = ("startup", "before_shutdown", "shutdown")


def _check(service: object, protocol: str, methods: tuple[str, ...], which: str) -> None:
    # Callability, not mere presence (what isinstance() on a runtime-checkable Protocol tests):
    # an attribute set to None would otherwise pass here and fail at shutdown.
    missing = [name for name in methods if not callable(getattr(service, name, None))]
    if missing:
        raise LifecycleDriverError(
            f"The implementation of service {which} ({type(service).__name__}) does not "
            f"implement {protocol}: missing {', '.join(missing)}; a replacement lifecycle service "
            "must also provide the methods the backend calls to run its hooks"
        )
