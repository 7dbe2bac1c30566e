"""``mock_services.auditor``: an auditor that records events for assertions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..api import PluginMetadataService, ServiceFactory, core_services, create_service_factory
from ..api.services.auditor import AuditorEvent, AuditorService, AuditorSeverity
from ._service_mock import ServiceMock, build_service_mock, create_double

__all__ = ["MockAuditorService", "RecordedAuditEvent", "mock_auditor"]


@dataclass
class RecordedAuditEvent:
    """One audit event and what became of it (``initiated``, ``succeeded`` or ``failed``)."""

    plugin_id: str
    event_id: str
    severity_level: AuditorSeverity
    meta: dict[str, Any]
    status: str = "initiated"
    error: BaseException | None = None
    request: Any = field(default=None, repr=False)


class _RecordingEvent:
    def __init__(self, record: RecordedAuditEvent) -> None:
        self._record = record

    async def success(self, *, meta: Mapping[str, Any] | None = None) -> None:
        self._record.meta.update(meta or {})
        self._record.status = "succeeded"

    async def fail(self, *, error: BaseException, meta: Mapping[str, Any] | None = None) -> None:
        self._record.meta.update(meta or {})
        self._record.status = "failed"
        self._record.error = error


class MockAuditorService:
    """Records every event in :attr:`events` instead of logging it."""

    def __init__(self, plugin_id: str = "test", events: list[RecordedAuditEvent] | None = None):
        self._plugin_id = plugin_id
        #: Every event created, in order, updated as it succeeds or fails.
        self.events: list[RecordedAuditEvent] = events if events is not None else []

    async def create_event(
        self,
        event_id: str,
        *,
        severity_level: AuditorSeverity = "low",
        request: Any = None,
        meta: Mapping[str, Any] | None = None,
    ) -> _RecordingEvent:
        """Record an initiated event."""
        record = RecordedAuditEvent(
            self._plugin_id, event_id, severity_level, dict(meta or {}), request=request
        )
        self.events.append(record)
        return _RecordingEvent(record)


class _MockAuditor:
    def __call__(self, plugin_id: str = "test") -> MockAuditorService:
        """An auditor for ``plugin_id`` that records events."""
        return MockAuditorService(plugin_id)

    def factory(
        self, events: list[RecordedAuditEvent] | None = None
    ) -> ServiceFactory[AuditorService]:
        """A ``core.auditor`` factory whose auditors all record into ``events``."""
        shared = events if events is not None else []

        def factory(*, plugin_metadata: PluginMetadataService) -> MockAuditorService:
            return MockAuditorService(plugin_metadata.get_id(), shared)

        return create_service_factory(
            service=core_services.auditor,
            deps={"plugin_metadata": core_services.plugin_metadata},
            factory=factory,
        )

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.auditor``: ``create_event`` records its calls and, unless given
        an implementation, returns an event whose ``success`` and ``fail`` are
        :class:`~unittest.mock.AsyncMock` objects, as Backstage's auditor mock does.
        """

        def create_event(*_args: object, **_kwargs: object) -> ServiceMock:
            return create_double(AuditorEvent)

        return build_service_mock(
            core_services.auditor,
            AuditorService,
            implementations,
            defaults={"create_event": create_event},
        )


#: ``mock_services.auditor()`` / ``mock_services.auditor.factory(events)``.
mock_auditor = _MockAuditor()
