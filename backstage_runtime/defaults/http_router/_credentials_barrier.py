"""The pipeline piece that asks for credentials unless an auth policy opens the path."""

from __future__ import annotations

from ...api.errors import BackstageError
from ...http_toolkit import ASGIApp, ErrorResponder, Receive, Scope, Send, mount_relative_path
from ._auth_policies import AuthPolicies, CredentialsBarrier
from ._plugin_errors import send_plugin_error

__all__ = ["CredentialsBarrierMiddleware"]


class CredentialsBarrierMiddleware:
    """Checks an HTTP request's credentials with ``barrier`` as ``policies`` require for its
    path (below the plugin mount): none, limited (the user cookie) or full; a refusal
    (``AuthenticationError``, ``NotAllowedError``) is answered with its error body. Websockets
    are not checked.

    Leave it out of the pipeline when the policies are disabled: it would check nothing.
    """

    __slots__ = ("_barrier", "_errors", "_policies", "app")

    def __init__(
        self,
        app: ASGIApp,
        barrier: CredentialsBarrier,
        policies: AuthPolicies,
        errors: ErrorResponder,
    ) -> None:
        self.app = app
        self._barrier = barrier
        self._policies = policies
        self._errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the credentials, then pass the request on, or answer the refusal."""
        if scope["type"] == "http":
            requirement = self._policies.requirement(mount_relative_path(scope))
            if requirement != "none":
                try:
                    await self._barrier(scope, requirement == "limited")
                except BackstageError as error:
                    await send_plugin_error(self._errors, scope, send, error)
                    return
        await self.app(scope, receive, send)
