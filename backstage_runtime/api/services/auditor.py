"""``core.auditor``: audit events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol

__all__ = ["AuditorEvent", "AuditorService", "AuditorSeverity"]

#: How much an audited event matters; events are ``low`` unless the caller says otherwise.
AuditorSeverity = Literal["low", "medium", "high", "critical"]


class AuditorEvent(Protocol):
    """An audit event that was initiated and must end in success or failure."""

    async def success(self, *, meta: Mapping[str, Any] | None = None) -> None:
        """Record that the audited action succeeded."""

    async def fail(self, *, error: BaseException, meta: Mapping[str, Any] | None = None) -> None:
        """Record that the audited action failed."""


class AuditorService(Protocol):
    """Emits audit events for a plugin."""

    async def create_event(
        self,
        event_id: str,
        *,
        severity_level: AuditorSeverity = "low",
        request: Any = None,
        meta: Mapping[str, Any] | None = None,
    ) -> AuditorEvent:
        """Log that an audited action started and return the event to complete."""
