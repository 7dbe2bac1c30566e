"""The liveness and readiness endpoints as a pipeline piece."""

from __future__ import annotations

from collections.abc import Mapping

from ...api.services.http import RootHealthService
from ...http_toolkit import ASGIApp, Receive, Scope, Send, send_json
from ._dispatch import local_path

__all__ = ["HEALTH_PATHS", "LIVENESS_PATH", "READINESS_PATH", "HealthEndpoints"]

LIVENESS_PATH = "/.backstage/health/v1/liveness"
READINESS_PATH = "/.backstage/health/v1/readiness"
HEALTH_PATHS = (LIVENESS_PATH, READINESS_PATH)


class HealthEndpoints:
    """Answers ``GET``/``HEAD`` of :data:`HEALTH_PATHS` from ``health``, with ``headers``
    (``backend.health.headers``); everything else goes on to ``app``.
    """

    __slots__ = ("_headers", "_health", "app")

    def __init__(self, app: ASGIApp, health: RootHealthService, headers: Mapping[str, str]) -> None:
        self.app = app
        self._health = health
        self._headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in headers.items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a health check or pass the request on."""
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            path = local_path(scope)
            if path in HEALTH_PATHS:
                health = self._health
                check = health.get_liveness if path == LIVENESS_PATH else health.get_readiness
                result = await check()
                # The body goes out for HEAD too: the ETag is computed from it, then dropped.
                await send_json(send, result.status, result.payload, self._headers)
                return
        await self.app(scope, receive, send)
