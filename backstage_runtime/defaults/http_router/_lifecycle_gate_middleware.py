"""The pipeline piece that holds a plugin's requests at its :class:`LifecycleGate`."""

from __future__ import annotations

from ...api.errors import BackstageError
from ...http_toolkit import ASGIApp, ErrorResponder, Receive, Scope, Send
from ._lifecycle_gate import LifecycleGate
from ._plugin_errors import send_plugin_error

__all__ = ["LifecycleGateMiddleware"]


class LifecycleGateMiddleware:
    """HTTP requests wait at ``gate`` until the plugin has started, then go on to ``app``; one
    the gate refuses (startup timeout, shutdown) is answered with the gate's 503 error.
    Websockets are not held.
    """

    __slots__ = ("_errors", "_gate", "app")

    def __init__(self, app: ASGIApp, gate: LifecycleGate, errors: ErrorResponder) -> None:
        self.app = app
        self._gate = gate
        self._errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wait at the gate, then pass the request on, or answer the refusal."""
        # An open gate passes at once: asked without the coroutine of ``pass_through``.
        if scope["type"] == "http" and not self._gate.up:
            try:
                await self._gate.pass_through()
            except BackstageError as error:
                await send_plugin_error(self._errors, scope, send, error)
                return
        await self.app(scope, receive, send)
