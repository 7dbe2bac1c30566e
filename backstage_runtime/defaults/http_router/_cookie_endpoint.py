"""The pipeline piece answering ``/.backstage/auth/v1/cookie`` (issue or clear the user cookie)."""

from __future__ import annotations

from ...api.errors import BackstageError
from ...http_toolkit import ASGIApp, ErrorResponder, Receive, Scope, Send, mount_relative_path
from ._auth_policies import CookieHandler
from ._plugin_errors import send_plugin_error

__all__ = ["COOKIE_PATH", "CookieEndpoint"]

#: Below the plugin mount; the router opens it to the cookie itself (a ``user-cookie`` policy).
COOKIE_PATH = "/.backstage/auth/v1/cookie"


class CookieEndpoint:
    """HTTP requests for :data:`COOKIE_PATH` go to ``handler`` (errors it raises are answered
    with their body); everything else goes on to ``app``. It belongs after the credentials
    barrier, which has checked the caller by then.
    """

    __slots__ = ("_errors", "_handler", "app")

    def __init__(self, app: ASGIApp, handler: CookieHandler, errors: ErrorResponder) -> None:
        self.app = app
        self._handler = handler
        self._errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the cookie path or pass the request on."""
        if scope["type"] == "http" and mount_relative_path(scope) == COOKIE_PATH:
            try:
                await self._handler(scope, send)
            except BackstageError as error:
                await send_plugin_error(self._errors, scope, send, error)
            return
        await self.app(scope, receive, send)
