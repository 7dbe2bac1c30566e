"""``backend.asgi_app``: the backend as an ASGI application for another server to run."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from ..api import core_services
from ..api.errors import BackstageError

if TYPE_CHECKING:
    from ._backend import Backend

__all__ = ["BackendAsgiApp"]

# ASGI scopes and messages are dicts whose values differ by key (str, bytes, int, lists of
# header pairs); ``Any`` keeps them compatible with the servers' and frameworks' own ASGI types.
_Message = MutableMapping[str, Any]
_Scope = _Message
_Receive = Callable[[], Awaitable[_Message]]
_Send = Callable[[_Message], Awaitable[None]]
_App = Callable[[_Scope, _Receive, _Send], Awaitable[None]]


class BackendAsgiApp:
    """Forwards requests to the backend's root HTTP router; ASGI lifespan starts and stops the
    backend when nobody else did.

    Before the backend's router exists, requests get Backstage's 503 error body.
    """

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._app: _App | None = None
        self._started_by_lifespan = False

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        app = self._app or await self._resolve()
        if app is None:
            if scope["type"] == "http":
                await _not_started(scope, send)
            return
        await app(scope, receive, send)

    async def _resolve(self) -> _App | None:
        if not (self._backend.started or self._backend.starting):
            return None
        router = await self._backend.get_service(core_services.root_http_router)
        app: _App | None = getattr(router, "asgi_app", None)
        if app is None:
            raise BackstageError(
                f"The root HTTP router in use ({type(router).__qualname__}) has no asgi_app"
            )
        self._app = app
        return app

    async def _lifespan(self, receive: _Receive, send: _Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if not (self._backend.started or self._backend.starting):
                        await self._backend.start()
                        self._started_by_lifespan = True
                    await self._resolve()
                except Exception as error:
                    await send({"type": "lifespan.startup.failed", "message": f"{error}"})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._started_by_lifespan:
                    await self._backend.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _not_started(scope: _Scope, send: _Send) -> None:
    body = json.dumps(
        {
            "error": {"name": "ServiceUnavailableError", "message": "Backend has not started yet"},
            "request": {"method": scope["method"], "url": scope["path"]},
            "response": {"statusCode": 503},
        },
        separators=(",", ":"),
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
