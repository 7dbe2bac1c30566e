"""``core.scheduler``: scheduled tasks, coordinated across instances."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

from ._json import JsonObject

__all__ = ["SchedulerService"]


class SchedulerService(Protocol):
    """Runs a plugin's tasks on a cadence; ``global`` tasks run on one instance per interval."""

    async def schedule_task(
        self,
        *,
        id: str,
        frequency: Mapping[str, Any] | str,
        timeout: Mapping[str, Any] | str,
        fn: Callable[..., Awaitable[None]],
        initial_delay: Mapping[str, Any] | str | None = None,
        scope: Literal["global", "local"] = "global",
    ) -> None:
        """Schedule ``fn`` under ``id``."""

    async def trigger_task(self, id: str) -> None:
        """Run the task now; raises NotFoundError or ConflictError."""

    async def get_scheduled_tasks(self) -> Sequence[JsonObject]:
        """The tasks this process scheduled."""
