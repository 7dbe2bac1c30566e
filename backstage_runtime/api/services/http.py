"""``core.rootHttpRouter``, ``core.httpRouter`` and ``core.rootHealth``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ._json import JsonObject

__all__ = [
    "AuthPolicyAllow",
    "HealthCheckResult",
    "HttpRouterService",
    "RootHealthService",
    "RootHttpRouterService",
]

#: ``unauthenticated`` lets anonymous callers in; ``user-cookie`` also accepts the user cookie.
AuthPolicyAllow = Literal["unauthenticated", "user-cookie"]


class RootHttpRouterService(Protocol):
    """The backend's one HTTP server; plugins use their own ``http_router`` instead."""

    def use(self, path: str, handler: Any) -> None:
        """Mount an ASGI app or a Quart blueprint at ``path``; overlapping prefixes are refused."""


class HttpRouterService(Protocol):
    """A plugin's HTTP router, mounted at ``/api/<pluginId>``."""

    def use(self, handler: Any) -> None:
        """Mount a Quart blueprint (or ASGI app) under the plugin's path."""

    def add_auth_policy(self, *, path: str, allow: AuthPolicyAllow) -> None:
        """Relax the credentials barrier for ``path`` (a prefix, relative to the plugin mount)."""


@dataclass(frozen=True)
class HealthCheckResult:
    """An HTTP status and JSON body for a health endpoint."""

    status: int
    payload: JsonObject


class RootHealthService(Protocol):
    """Answers ``/.backstage/health/v1/liveness`` and ``/readiness``."""

    async def get_liveness(self) -> HealthCheckResult:
        """200 ``{"status": "ok"}`` while the process runs."""

    async def get_readiness(self) -> HealthCheckResult:
        """200 once started; 503 before startup completes and once shutdown begins."""
