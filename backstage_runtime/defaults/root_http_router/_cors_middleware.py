"""The ``cors`` package as a pipeline piece: preflight answers and headers on every response."""

from __future__ import annotations

from ...http_toolkit import ASGIApp, Receive, Scope, Send
from ._cors import CorsPolicy
from ._prepend_headers import PrependHeadersSend

__all__ = ["CorsMiddleware"]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class CorsMiddleware:
    """The ``cors`` package as Backstage configures it: a request from an origin the policy
    allows gets the policy's headers ahead of the application's, and an ``OPTIONS`` from one is
    answered as a preflight (unless ``preflightContinue``). A request without an allowed
    ``Origin`` passes through untouched, an ``OPTIONS`` too: the plugin's routing and
    credentials barrier answer it (401 on a guarded route, 404 on an unknown path).

    Only in the pipeline when ``backend.cors`` is configured.
    """

    __slots__ = ("_policy", "app")

    def __init__(self, app: ASGIApp, policy: CorsPolicy) -> None:
        self.app = app
        self._policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a preflight, or serve the request with the CORS headers added."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self._policy
        origin = _header(scope, b"origin")
        if not policy.allows(origin):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and not policy.preflight_continue:
            headers = policy.preflight_headers(
                origin, _header(scope, b"access-control-request-headers")
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": policy.options_success_status,
                    "headers": [*headers, (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, PrependHeadersSend(send, policy.response_headers(origin)))
