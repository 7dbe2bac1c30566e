"""The trace fields of a log line: the current span's ids whenever its context is valid
(recording or not), nothing otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import context, trace
from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from backstage_runtime.defaults.root_logger import _trace_fields as trace_fields
from backstage_runtime.defaults.root_logger._trace_fields import add_trace_fields

TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
SPAN_ID = 0x00F067AA0BA902B7


def fields_now() -> dict[str, Any]:
    fields: dict[str, Any] = {"message": "hello"}
    add_trace_fields(fields)
    return fields


def test_without_a_current_span_nothing_is_added() -> None:
    assert fields_now() == {"message": "hello"}


def test_a_recording_span_adds_its_ids() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        ids = span.get_span_context()
        assert ids.trace_flags.sampled
        assert fields_now() == {
            "message": "hello",
            "trace_id": format(ids.trace_id, "032x"),
            "span_id": format(ids.span_id, "016x"),
            # Sampled (01), and the SDK's random trace id flag (02) of W3C trace context 2.
            "trace_flags": format(ids.trace_flags, "02x"),
        }
    assert fields_now() == {"message": "hello"}


def test_a_valid_span_that_does_not_record_adds_its_ids_too() -> None:
    # What a sampler that drops the request leaves current: the caller's ids, flags 00.
    ids = SpanContext(TRACE_ID, SPAN_ID, is_remote=True, trace_flags=TraceFlags(0))
    with trace.use_span(NonRecordingSpan(ids)):
        assert fields_now() == {
            "message": "hello",
            "trace_id": "0af7651916cd43dd8448eb211c80319c",
            "span_id": "00f067aa0ba902b7",
            "trace_flags": "00",
        }


@pytest.mark.parametrize(
    ("trace_id", "span_id", "flags", "expected"),
    [
        (1, 1, 1, ("0" * 31 + "1", "0" * 15 + "1", "01")),
        (2**128 - 1, 2**64 - 1, 0xFF, ("f" * 32, "f" * 16, "ff")),
        (TRACE_ID, SPAN_ID, 0x03, ("0af7651916cd43dd8448eb211c80319c", "00f067aa0ba902b7", "03")),
        # Flags past a byte (a hand-made SpanContext): written as they are, not refused.
        (TRACE_ID, SPAN_ID, 0x100, ("0af7651916cd43dd8448eb211c80319c", "00f067aa0ba902b7", "100")),
    ],
)
def test_ids_and_flags_are_fixed_width_lower_case_hex(
    trace_id: int, span_id: int, flags: int, expected: tuple[str, str, str]
) -> None:
    ids = SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(flags))
    with trace.use_span(NonRecordingSpan(ids)):
        fields = fields_now()
    assert (fields["trace_id"], fields["span_id"], fields["trace_flags"]) == expected


def test_an_invalid_span_or_other_context_values_add_nothing() -> None:
    token = context.attach(context.set_value("unrelated", 1))
    try:
        assert fields_now() == {"message": "hello"}
        with trace.use_span(NonRecordingSpan(trace.INVALID_SPAN_CONTEXT)):
            assert fields_now() == {"message": "hello"}
    finally:
        context.detach(token)


def test_a_span_context_is_the_tuple_the_fields_are_read_from() -> None:
    # The log line unpacks a SpanContext instead of reading its properties: the layout it
    # counts on, so that an API release changing it fails here rather than in log lines.
    ids = SpanContext(TRACE_ID, SPAN_ID, is_remote=True, trace_flags=TraceFlags(1))
    assert tuple(ids) == (
        ids.trace_id,
        ids.span_id,
        ids.is_remote,
        ids.trace_flags,
        ids.trace_state,
        ids.is_valid,
    )


def test_a_value_under_the_span_key_that_is_no_span_adds_nothing() -> None:
    # What the API's get_current_span answers (INVALID_SPAN) for such a value: nothing to add.
    key = trace.propagation._SPAN_KEY
    token = context.attach(context.set_value(key, "not a span"))
    try:
        assert fields_now() == {"message": "hello"}
    finally:
        context.detach(token)


def test_under_an_operator_s_runtime_context_the_api_finds_the_span(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Elsewhere(ContextVarsRuntimeContext):
        """An operator's runtime context (OTEL_PYTHON_CONTEXT): its own ContextVar."""

    monkeypatch.setattr(context, "_RUNTIME_CONTEXT", Elsewhere())
    monkeypatch.setattr(trace_fields, "_CONTEXT", None)
    ids = SpanContext(TRACE_ID, SPAN_ID, is_remote=True, trace_flags=TraceFlags(1))
    token = context.attach(trace.set_span_in_context(NonRecordingSpan(ids)))
    try:
        assert fields_now()["span_id"] == format(SPAN_ID, "016x")
    finally:
        context.detach(token)
    assert trace_fields._CONTEXT is False
