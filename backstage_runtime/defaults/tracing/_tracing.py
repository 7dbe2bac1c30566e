"""``PluginTracing``: the tracing service over one plugin's OpenTelemetry tracer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from ...api.services.auth import BackstageCredentials
from ...api.services.tracing import SpanAttributes, SpanKind, SpanStatusCode, TracingSpan

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

__all__ = ["PluginTracing"]

_KINDS = {
    "internal": trace.SpanKind.INTERNAL,
    "server": trace.SpanKind.SERVER,
    "client": trace.SpanKind.CLIENT,
    "producer": trace.SpanKind.PRODUCER,
    "consumer": trace.SpanKind.CONSUMER,
}
_STATUS = {"unset": StatusCode.UNSET, "ok": StatusCode.OK, "error": StatusCode.ERROR}


class _Span:
    """What the block sees of its span."""

    __slots__ = ("_span",)

    def __init__(self, span: Span) -> None:
        self._span = span

    def set_attribute(self, key: str, value: Any) -> None:
        """Set one attribute."""
        self._span.set_attribute(key, value)

    def set_status(self, code: SpanStatusCode, message: str | None = None) -> None:
        """Set the status."""
        self._span.set_status(Status(_STATUS[code], message))


class PluginTracing:
    """Spans of one plugin, attributed to it with ``backstage.plugin.id``."""

    __slots__ = ("_capture_end_user", "_plugin_id", "_tracer")

    def __init__(self, tracer: Tracer, plugin_id: str, *, capture_end_user: bool) -> None:
        self._tracer = tracer
        self._plugin_id = plugin_id
        self._capture_end_user = capture_end_user

    @contextmanager
    def start_active_span(
        self,
        name: str,
        *,
        attributes: SpanAttributes | None = None,
        kind: SpanKind = "internal",
        credentials: BackstageCredentials | None = None,
    ) -> Iterator[TracingSpan]:
        """A span current for the ``with`` block (see :class:`TracingService`)."""
        span_attributes: dict[str, Any] = {"backstage.plugin.id": self._plugin_id}
        if attributes:
            span_attributes.update(attributes)
        if credentials is not None:
            span_attributes.update(self._principal_attributes(credentials))
        with self._tracer.start_as_current_span(
            name,
            kind=_KINDS[kind],
            attributes=span_attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield _Span(span)
            except Exception as error:
                span.record_exception(error)
                span.set_attribute("error.type", type(error).__name__)
                span.set_status(Status(StatusCode.ERROR, str(error) or type(error).__name__))
                raise

    def _principal_attributes(self, credentials: BackstageCredentials) -> dict[str, Any]:
        principal = credentials.principal
        found: dict[str, Any] = {"backstage.principal.type": principal.type}
        if self._capture_end_user:
            end_user = getattr(principal, "user_entity_ref", None) or getattr(
                principal, "subject", None
            )
            if end_user:
                found["enduser.id"] = end_user
        return found
