"""``alpha.core.tracing``: OpenTelemetry spans under the plugin's own tracer.

Backstage's alpha ``TracingService`` in Python: ``start_active_span`` is a context manager
(sync or async code alike, the span is current inside the block), which records an exception
raised inside it and sets the span's status to error.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol, TypeAlias

from .auth import BackstageCredentials

__all__ = [
    "SpanAttributes",
    "SpanKind",
    "SpanStatusCode",
    "TracingService",
    "TracingSpan",
]

#: Attributes of a span: OpenTelemetry attribute values.
SpanAttributes: TypeAlias = Mapping[str, Any]

#: What a span stands for (Backstage's ``TracingServiceSpanKind``).
SpanKind: TypeAlias = Literal["internal", "server", "client", "producer", "consumer"]

#: A span's status (Backstage's ``TracingServiceSpanStatus.code``).
SpanStatusCode: TypeAlias = Literal["unset", "ok", "error"]


class TracingSpan(Protocol):
    """The span of a :meth:`TracingService.start_active_span` block."""

    def set_attribute(self, key: str, value: Any) -> None:
        """Set one attribute."""

    def set_status(self, code: SpanStatusCode, message: str | None = None) -> None:
        """Set the status (``ok``, ``error`` or ``unset``)."""


class TracingService(Protocol):
    """Spans from tracer ``backstage-plugin-<pluginId>`` (overridden by
    ``backend.tracing.plugin.<pluginId>.tracer.{name,version,schemaUrl}``), each with the
    attribute ``backstage.plugin.id``.
    """

    def start_active_span(
        self,
        name: str,
        *,
        attributes: SpanAttributes | None = None,
        kind: SpanKind = "internal",
        credentials: BackstageCredentials | None = None,
    ) -> AbstractContextManager[TracingSpan]:
        """A span current for the ``with`` block, ended when the block exits.

        With ``credentials`` the span gets ``backstage.principal.type``, and ``enduser.id``
        (the user entity ref or the service subject) when ``backend.tracing.capture.endUser``
        is true. An exception leaving the block is recorded, sets ``error.type`` and the error
        status, and propagates.
        """
