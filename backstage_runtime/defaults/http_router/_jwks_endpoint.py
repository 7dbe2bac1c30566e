"""The plugin's public keys at ``/.backstage/auth/v1/jwks.json``, open to every caller."""

from __future__ import annotations

from ...http_toolkit import ASGIApp, Receive, Scope, Send, send_json
from ._auth_policies import PublicKeys

__all__ = ["JWKS_PATH", "JwksEndpoint"]

#: Where, below the plugin mount, other backends fetch the keys that verify this plugin's tokens.
JWKS_PATH = "/.backstage/auth/v1/jwks.json"


class JwksEndpoint:
    """Answers ``GET``/``HEAD`` of :data:`JWKS_PATH` with ``{"keys": [...]}``; everything else
    goes on to ``app``.

    It sits before the lifecycle gate and the credentials barrier: other backends must always
    be able to verify this plugin's tokens, even while it starts.
    """

    __slots__ = ("_public_keys", "app")

    def __init__(self, app: ASGIApp, public_keys: PublicKeys) -> None:
        self.app = app
        self._public_keys = public_keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the keys or pass the request on."""
        if scope["type"] == "http" and _is_jwks_request(scope):
            await send_json(send, 200, {"keys": list(await self._public_keys())})
            return
        await self.app(scope, receive, send)


def _is_jwks_request(scope: Scope) -> bool:
    path: str = scope["path"]
    # The suffix test first: it rejects almost every request without slicing the path.
    return (
        path.endswith(JWKS_PATH)
        and scope["method"] in ("GET", "HEAD")
        and path[len(scope.get("root_path", "")) :] == JWKS_PATH
    )
