"""The lifecycle gate: hold a plugin's requests until it has started, refuse them once it stops."""

from __future__ import annotations

from typing import Literal

import anyio

from ...api.errors import ServiceUnavailableError

__all__ = ["LifecycleGate"]


class LifecycleGate:
    """``init`` -> ``up`` (the plugin's startup hooks ran) -> ``down`` (its shutdown began).

    While ``init`` a request waits up to ``pause_timeout`` seconds and then fails with
    ``ServiceUnavailableError('Service has not started up yet')``; once ``down`` every request,
    waiting ones included, fails with ``'Service is shutting down'`` (Backstage's texts).
    """

    def __init__(self, pause_timeout: float) -> None:
        self._pause_timeout = pause_timeout
        self._state: Literal["init", "up", "down"] = "init"
        self._changed = anyio.Event()
        #: Whether the state is ``up``: a request then passes at once, read without a call.
        self.up = False

    @property
    def state(self) -> Literal["init", "up", "down"]:
        """The plugin's state as the gate sees it."""
        return self._state

    def open(self) -> None:
        """The plugin has started: let waiting and new requests through."""
        if self._state == "init":
            self._state = "up"
            self.up = True
            self._changed.set()

    def close(self) -> None:
        """The plugin is shutting down: fail waiting and new requests."""
        self._state = "down"
        self.up = False
        self._changed.set()

    async def pass_through(self) -> None:
        """Return when the request may proceed; raises :class:`ServiceUnavailableError`."""
        if self._state == "up":
            return
        if self._state == "init":
            with anyio.move_on_after(self._pause_timeout):
                await self._changed.wait()
            # Read through the property: the state changed while this request waited.
            if self.state == "up":
                return
            if self.state == "init":
                raise ServiceUnavailableError("Service has not started up yet")
        raise ServiceUnavailableError("Service is shutting down")
