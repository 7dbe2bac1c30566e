"""The current OpenTelemetry span of a log call, as the fields that correlate the two.

The names are the ones OpenTelemetry's winston instrumentation gives a Backstage log line
(``trace_id``, ``span_id``, ``trace_flags``), so that a log backend's trace links work for Node
and Python backends alike. Without a valid current span (tracing off) there is nothing to add.
"""

from __future__ import annotations

import sys
from typing import Any

from ...api._otel_context import runtime_context_var, span_key

__all__ = ["add_trace_fields"]

# Span classes -> how to read their span context: True for the SDK's spans (the ``_context``
# field its get_span_context returns through a cast), False for the API's other Spans, whose
# method is called (an ABC check is costly, once per line otherwise). Not a Span: absent.
_SPAN_TYPES: dict[type, bool] = {}
# The two hex digits of each trace-flags byte, looked up rather than formatted on every line.
_FLAGS_HEX: tuple[str, ...] = tuple(f"{flags:02x}" for flags in range(256))
# OpenTelemetry's ContextVar and span key, once its API is loaded (see api._otel_context):
# None until looked up; False when the API's calls must be used.
_CONTEXT: Any = None


def _context_access() -> Any:
    """(ContextVar, span key) for direct reads, or False (the API's calls), found once."""
    global _CONTEXT
    var, key = runtime_context_var(), span_key()
    _CONTEXT = (var, key) if var is not None and key is not None else False
    return _CONTEXT


def add_trace_fields(fields: dict[str, Any]) -> None:
    """Add the current span's ids to ``fields`` when there is a valid current span."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        # Nothing imported OpenTelemetry's API (tracing off, cold start): no span is current.
        return
    access = _CONTEXT if _CONTEXT is not None else _context_access()
    if access:
        var, key = access
        current = var.get()
    else:
        current = sys.modules["opentelemetry.context"].get_current()
        key = None
    # An empty context is the usual case without tracing (metrics on load the API too): one
    # lookup settles it, before the span lookup.
    if not current:
        return
    # What trace.get_current_span(current) does, without its two calls: the span under the
    # API's key, if it is a Span; without the key, the API's call.
    span = current.get(key) if key is not None else trace.get_current_span(current)
    if span is None:
        return
    direct = _SPAN_TYPES.get(type(span))
    if direct is None:
        direct = _learn(type(span), trace)
        if direct is None:
            return
    # A SpanContext is a tuple (trace id, span id, remote, flags, state, valid), unpacked at
    # once rather than read through four properties (a call each, per log line).
    trace_id, span_id, _, flags, _, valid = span._context if direct else span.get_span_context()
    if valid:
        try:
            # Fixed-width bytes in hex: half the cost of the format mini-language per id.
            fields["trace_id"] = trace_id.to_bytes(16, "big").hex()
            fields["span_id"] = span_id.to_bytes(8, "big").hex()
            fields["trace_flags"] = _FLAGS_HEX[flags]
        except (OverflowError, IndexError, TypeError):
            # Ids or flags out of the W3C ranges (a hand-made SpanContext): written as they are.
            fields["trace_id"] = f"{trace_id:032x}"
            fields["span_id"] = f"{span_id:016x}"
            fields["trace_flags"] = f"{flags:02x}"


def _learn(span_type: type, trace: Any) -> bool | None:
    """Whether spans of ``span_type`` are read directly (the SDK's), through their method
    (another Span), or not at all (None: not a Span), remembered for the class."""
    if not issubclass(span_type, trace.Span):
        return None
    sdk = sys.modules.get("opentelemetry.sdk.trace")
    sdk_span = getattr(sdk, "Span", None)
    direct = (
        sdk_span is not None
        and issubclass(span_type, sdk_span)
        and getattr(span_type, "get_span_context", None) is sdk_span.get_span_context
    )
    _SPAN_TYPES[span_type] = direct
    return direct
