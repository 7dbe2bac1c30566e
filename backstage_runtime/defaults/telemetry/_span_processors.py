"""The span processors of the backend's own tracer provider: the SDK's, one call shorter per
span event while there is only one of them (the usual case: the configured exporter's)."""

from __future__ import annotations

import threading

from opentelemetry.sdk.trace import SpanProcessor, SynchronousMultiSpanProcessor

__all__ = ["SpanProcessors"]

# The events a span reports to its provider's processors (``_on_ending`` where the SDK has it:
# the SDK version decides which of them the multi-processor forwards).
_EVENTS = tuple(
    name
    for name in ("on_start", "_on_ending", "on_end")
    if hasattr(SynchronousMultiSpanProcessor, name)
)


class SpanProcessors(SynchronousMultiSpanProcessor):
    """OpenTelemetry's :class:`SynchronousMultiSpanProcessor`, except that while it holds a
    single processor a span's start and end go to that processor directly, without the loop
    over all of them (three calls and loops per span). With more, or none, the SDK's own
    methods call each processor in the order they were added.
    """

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._added: tuple[SpanProcessor, ...] = ()
        self._adding = threading.Lock()

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        """Add ``span_processor`` after the others (the SDK's)."""
        super().add_span_processor(span_processor)
        with self._adding:
            self._added += (span_processor,)
            if len(self._added) == 1:
                # Instance attributes, found before the class's methods: the span's calls
                # reach the one processor's own.
                for name in _EVENTS:
                    setattr(self, name, getattr(span_processor, name))
            else:
                for name in _EVENTS:
                    self.__dict__.pop(name, None)
