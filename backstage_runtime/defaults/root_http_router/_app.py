"""The ASGI application behind the one server: Backstage's root middleware around the mounts."""

from __future__ import annotations

import time
from collections.abc import Mapping

from ...api import LoggerService
from ...api.error_response import error_response_body
from ...api.errors import NotFoundError
from ...api.services.http import RootHealthService
from ...http_toolkit import ErrorResponder, Receive, Scope, Send, request_url, send_json
from ._compression import CompressionSend
from ._cors import CorsPolicy
from ._etag import ETagSend
from ._in_flight import InFlightRequests
from ._request_log import RecordingSend, RequestInfo, log_request, request_id_for
from ._routes import RouteTable

__all__ = ["HEALTH_PATHS", "RootHttpApp"]

LIVENESS_PATH = "/.backstage/health/v1/liveness"
READINESS_PATH = "/.backstage/health/v1/readiness"
HEALTH_PATHS = (LIVENESS_PATH, READINESS_PATH)


class RootHttpApp:
    """Serves every request: request logging, security headers, CORS, compression, the health
    endpoints, then the mount owning the path; unmatched paths get a ``NotFoundError`` body, and
    errors that escape a mount get Backstage's error body. Complete responses get Express's weak
    ETag (and 304 when the client's copy is current).
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
    ) -> None:
        self._routes = routes
        self._health = health
        self._health_headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in health_headers.items()
        ]
        self._security_headers = security_headers
        self._cors = cors
        self._request_logger = request_logger
        self._errors = errors
        #: Requests in progress; shutdown waits for this to drain.
        self.in_flight = InFlightRequests()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await _answer_lifespan(receive, send)
        elif kind == "websocket":
            local_path = _local_path(scope)
            mount = self._routes.match(local_path)
            if mount is None:
                await send({"type": "websocket.close", "code": 1000})
                return
            await mount.app(_mounted(scope, local_path, mount.path), receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.in_flight.enter()
        info = RequestInfo(request_id_for(scope), time.perf_counter())
        scope["backstage"] = info
        recorder = RecordingSend(send, info)
        try:
            preflight = self._cors is not None and scope["method"] == "OPTIONS"
            if preflight and await self._preflight(scope, send):
                return
            await self._dispatch(scope, receive, self._response_send(scope, recorder))
        except Exception as error:
            if recorder.started:
                raise  # the server closes the connection; nothing more can be said
            status, body = self._errors.respond(
                error, method=scope["method"], url=request_url(scope, relative=False)
            )
            # A fresh chain: the failed one may hold the start of the response that never was.
            await send_json(self._response_send(scope, recorder), status, body)
        finally:
            self.in_flight.exit()
            if self._request_logger is not None:
                log_request(self._request_logger, scope, info, time.perf_counter() - info.started)

    def _response_send(self, scope: Scope, recorder: Send) -> Send:
        """Node's layers, innermost first: ``res.send``'s ETag and 304, then compression (which
        also puts first the headers that helmet and CORS set before any handler ran), then what
        the request log reads.
        """
        preset = self._security_headers
        if self._cors is not None:
            preset = preset + self._cors.response_headers(_origin(scope))
        return ETagSend(scope, CompressionSend(scope, recorder, preset))

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = _local_path(scope)
        if path in HEALTH_PATHS and scope["method"] in ("GET", "HEAD"):
            check = (
                self._health.get_liveness if path == LIVENESS_PATH else self._health.get_readiness
            )
            result = await check()
            # The body goes out for HEAD too: the ETag is computed from it, then it is dropped.
            await send_json(send, result.status, result.payload, self._health_headers)
            return
        mount = self._routes.match(path)
        if mount is None:
            method = scope["method"]
            url = request_url(scope, relative=False)
            error = NotFoundError(f"No route for {method} {url}")
            await send_json(send, 404, error_response_body(error, method=method, url=url))
            return
        await mount.app(_mounted(scope, path, mount.path), receive, send)

    async def _preflight(self, scope: Scope, send: Send) -> bool:
        assert self._cors is not None
        headers = self._cors.preflight_headers(
            _origin(scope), _header(scope, b"access-control-request-headers")
        )
        if self._cors.preflight_continue:
            return False
        await send(
            {
                "type": "http.response.start",
                "status": self._cors.options_success_status,
                "headers": [*self._security_headers, *headers, (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})
        info: RequestInfo = scope["backstage"]
        info.status = self._cors.options_success_status
        info.content_length = 0
        return True


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _origin(scope: Scope) -> str | None:
    return _header(scope, b"origin")


def _local_path(scope: Scope) -> str:
    # When another ASGI app mounted us, ``path`` still starts with its ``root_path``.
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _mounted(scope: Scope, local_path: str, mount_path: str) -> Scope:
    # Starlette's and Quart's convention: ``path`` stays whole and ``root_path`` names the mount.
    # The mount point is taken from the request (matching ignores case; Quart's prefix check
    # does not). A request for the mount point itself is served as the mount's "/", as Express
    # does.
    root_path = scope.get("root_path", "") + local_path[: len(mount_path)]
    if len(local_path) == len(mount_path):
        path = scope["path"] + "/"
        raw_path = scope.get("raw_path") or scope["path"].encode()
        return {**scope, "root_path": root_path, "path": path, "raw_path": raw_path + b"/"}
    return {**scope, "root_path": root_path}


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
