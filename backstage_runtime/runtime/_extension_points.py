"""Extension point implementations handed to modules, closed once their plugin's init starts."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from ..api.errors import ExtensionPointClosedError

__all__ = ["ExtensionPointClosedError", "ExtensionPointGate", "guard_extension_point"]


class ExtensionPointGate:
    """Shared by every extension point of one plugin; closing it closes all of them."""

    __slots__ = ("closed", "plugin_id")

    def __init__(self, plugin_id: str) -> None:
        self.plugin_id = plugin_id
        self.closed = False


class _GuardedExtensionPoint:
    """Forwards to the implementation until the gate closes, then refuses every use.

    Extension points are for module init; a module that keeps a reference and calls it later
    would change the plugin behind its back after it has read its extensions.
    """

    __slots__ = ("_ep_id", "_gate", "_impl", "_user")

    def __init__(self, impl: object, ep_id: str, user: str, gate: ExtensionPointGate) -> None:
        object.__setattr__(self, "_impl", impl)
        object.__setattr__(self, "_ep_id", ep_id)
        object.__setattr__(self, "_user", user)
        object.__setattr__(self, "_gate", gate)

    def _check(self) -> None:
        gate: ExtensionPointGate = object.__getattribute__(self, "_gate")
        if gate.closed:
            raise ExtensionPointClosedError(
                f"Extension point '{object.__getattribute__(self, '_ep_id')}' was used by "
                f"{object.__getattribute__(self, '_user')} after plugin '{gate.plugin_id}' "
                "started its init; extension points may only be used during module init"
            )

    def __getattr__(self, name: str) -> object:
        self._check()
        value = getattr(object.__getattribute__(self, "_impl"), name)
        if callable(value):
            guard = self

            def guarded(*args: object, **kwargs: object) -> object:
                guard._check()
                return value(*args, **kwargs)

            return guarded
        return value

    def __setattr__(self, name: str, value: object) -> None:
        self._check()
        setattr(object.__getattribute__(self, "_impl"), name, value)

    def __call__(self, *args: object, **kwargs: object) -> object:
        self._check()
        # Only reached when a module calls the extension point: then its implementation is one.
        impl = cast(Callable[..., object], object.__getattribute__(self, "_impl"))
        return impl(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<extension point {object.__getattribute__(self, '_ep_id')}>"


def guard_extension_point(impl: object, ep_id: str, user: str, gate: ExtensionPointGate) -> object:
    """Wrap ``impl`` for the module described by ``user``."""
    return _GuardedExtensionPoint(impl, ep_id, user, gate)
