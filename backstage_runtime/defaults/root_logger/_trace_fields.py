"""The current OpenTelemetry span of a log call, as the fields that correlate the two.

The names are the ones OpenTelemetry's winston instrumentation gives a Backstage log line
(``trace_id``, ``span_id``, ``trace_flags``), so that a log backend's trace links work for Node
and Python backends alike. Without a valid current span (tracing off) there is nothing to add.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["add_trace_fields"]

# The span classes seen to be the API's Span (an ABC check is costly, once per line otherwise).
_SPAN_TYPES: set[type] = set()


def add_trace_fields(fields: dict[str, Any]) -> None:
    """Add the current span's ids to ``fields`` when there is a valid current span."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        # Nothing imported OpenTelemetry's API (tracing off, cold start): no span is current.
        return
    # Loaded with the trace API. An empty context is the usual case without tracing (metrics
    # on load the API too): one lookup settles it, before the span lookup's chain of calls.
    current = sys.modules["opentelemetry.context"].get_current()
    if not current:
        return
    # What trace.get_current_span(current) does, without its two calls: the span under the
    # API's key, if it is a Span. The key is the API's private name; without it, the API's call.
    key = getattr(trace.propagation, "_SPAN_KEY", None)
    span = current.get(key) if key is not None else trace.get_current_span(current)
    if span is None:
        return
    if type(span) not in _SPAN_TYPES:
        if not isinstance(span, trace.Span):
            return
        _SPAN_TYPES.add(type(span))
    # A SpanContext is a tuple (trace id, span id, remote, flags, state, valid), unpacked at
    # once rather than read through four properties (a call each, per log line).
    trace_id, span_id, _, flags, _, valid = span.get_span_context()
    if valid:
        # f-strings format in the interpreter: no lookup and call of format() per field.
        fields["trace_id"] = f"{trace_id:032x}"
        fields["span_id"] = f"{span_id:016x}"
        fields["trace_flags"] = f"{flags:02x}"
