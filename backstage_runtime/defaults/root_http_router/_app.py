"""The ASGI application behind the one server: the root pipeline around the mounts."""

from __future__ import annotations

from collections.abc import Mapping

from ...api import LoggerService
from ...api.services.http import RootHealthService
from ...api.services.telemetry import TelemetryService
from ...http_toolkit import ErrorResponder, Receive, Scope, Send, build_pipeline
from ._cors import CorsPolicy
from ._dispatch import RouteDispatch
from ._health import HEALTH_PATHS
from ._in_flight import InFlightRequests
from ._pipeline import default_pipeline
from ._routes import RouteTable

__all__ = ["HEALTH_PATHS", "RootHttpApp"]


class RootHttpApp:
    """Serves every request: HTTP through the :func:`default_pipeline` (request logging,
    security headers, CORS, compression, ETag, error rendering, the health endpoints) to the
    mount owning the path (:class:`RouteDispatch`, a ``NotFoundError`` body when none does);
    websockets straight to their mount; lifespan events answered.
    """

    def __init__(
        self,
        *,
        routes: RouteTable,
        health: RootHealthService,
        health_headers: Mapping[str, str],
        security_headers: list[tuple[bytes, bytes]],
        cors: CorsPolicy | None,
        request_logger: LoggerService | None,
        errors: ErrorResponder,
        telemetry: TelemetryService | None = None,
    ) -> None:
        #: Requests in progress; shutdown waits for this to drain.
        self.in_flight = InFlightRequests()
        self._dispatch = RouteDispatch(routes)
        self._http = build_pipeline(
            default_pipeline(
                in_flight=self.in_flight,
                errors=errors,
                health=health,
                health_headers=health_headers,
                security_headers=security_headers,
                cors=cors,
                request_logger=request_logger,
                telemetry=telemetry,
            ),
            self._dispatch,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope."""
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await _answer_lifespan(receive, send)
        elif kind == "websocket":
            await self._dispatch(scope, receive, send)


async def _answer_lifespan(receive: Receive, send: Send) -> None:
    # The backend's own start and stop drive everything; the server's lifespan only needs an
    # answer so that it does not log that the application lacks lifespan support.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
