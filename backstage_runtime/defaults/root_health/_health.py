"""The health state machine: init -> up (root startup) -> down (root before-shutdown)."""

from __future__ import annotations

from typing import Literal

from ...api import RootLifecycleService
from ...api.services.http import HealthCheckResult

__all__ = ["BackendHealth"]

_OK = HealthCheckResult(200, {"status": "ok"})
_NOT_STARTED = HealthCheckResult(503, {"message": "Backend has not started yet", "status": "error"})
_SHUTTING_DOWN = HealthCheckResult(503, {"message": "Backend is shutting down", "status": "error"})


class BackendHealth:
    """Backstage's default health: readiness is 200 only between the root startup hooks and the
    root before-shutdown hooks; a failed start leaves it at 503.
    """

    def __init__(self, lifecycle: RootLifecycleService) -> None:
        self._state: Literal["init", "up", "down"] = "init"
        lifecycle.add_startup_hook(self._up)
        lifecycle.add_before_shutdown_hook(self._down)

    @property
    def state(self) -> Literal["init", "up", "down"]:
        """``init`` before startup, ``up`` while running, ``down`` once shutdown began."""
        return self._state

    def _up(self) -> None:
        if self._state == "init":
            self._state = "up"

    def _down(self) -> None:
        self._state = "down"

    async def get_liveness(self) -> HealthCheckResult:
        """Always 200 ``{"status": "ok"}``: the process is alive."""
        return _OK

    async def get_readiness(self) -> HealthCheckResult:
        """200 ``{"status": "ok"}`` while up, else 503 with the reason."""
        if self._state == "up":
            return _OK
        return _NOT_STARTED if self._state == "init" else _SHUTTING_DOWN
