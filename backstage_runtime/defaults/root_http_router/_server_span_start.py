"""The start of a request's server span: the SDK's ``Tracer.start_span`` without its overhead.

``start_span`` is general: it takes optional links, start times and flags, checks its
arguments' types, builds the trace flags anew, and makes the span through two ``__init__``
chains with keyword arguments, cleaning each start attribute on the way. For the server span
of every request that is about two thirds of what tracing adds to one (a microbenchmark of
start, attach, end: 13.7 against 5 µs). :class:`ServerSpanStart` takes the same steps in the
same order (parent, trace id, sampler, flags, span id, the SDK's span counters, ``on_start``)
and fills the SDK's own span class with the fields its ``__init__`` would give it, so the span
is the SDK's in every respect: every method a plugin or a processor calls on it is the SDK's,
but for three of a subclass that keep the SDK's steps with less work: the event and link
lists come with the first event or link, and the end builds its ReadableSpan directly (see
``_server_span_class``).

What this counts on (the tracer's fields, the span class's fields, the trace flags) is
checked once per tracer by :meth:`ServerSpanStart.for_tracer`, which answers None for any
tracer it cannot start spans for exactly as the SDK does (another implementation, a subclass,
another SDK version's fields): the caller then uses ``tracer.start_span``.
tests/defaults/telemetry/test_server_span_start.py compares the spans field by field.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from random import getrandbits
from time import time_ns
from typing import TYPE_CHECKING, Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context
from opentelemetry.trace import (
    INVALID_SPAN_CONTEXT,
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    TraceFlags,
)

from ...api._otel_context import span_key

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

__all__ = ["ServerSpanStart"]

# The fields of the SDK's ReadableSpan (1.45): what a span's end hands the processors.
_READABLE_FIELDS = frozenset(
    {
        "_attributes",
        "_context",
        "_end_time",
        "_events",
        "_instrumentation_info",
        "_instrumentation_scope",
        "_kind",
        "_links",
        "_name",
        "_parent",
        "_resource",
        "_start_time",
        "_status",
    }
)
# The fields ``_Span.__init__`` sets (SDK 1.45): its ReadableSpan's and its own. A span made
# here has these and no others.
_SPAN_FIELDS = _READABLE_FIELDS | {
    "_limits",
    "_lock",
    "_record_end_metrics",
    "_record_exception",
    "_sampler",
    "_set_status_on_exception",
    "_span_processor",
    "_trace_config",
}
_TRACER_FIELDS = (
    "sampler",
    "resource",
    "span_processor",
    "id_generator",
    "instrumentation_info",
    "_span_limits",
    "_instrumentation_scope",
    "_tracer_config",
    "_tracer_metrics",
)
# The API's key for the current span in a context (a private name, looked up with a fallback).
_SPAN_KEY: str | None = None
# The SDK's sampled and record-only decisions: a decision is sampled when it is the first,
# recorded when it is either (Decision.is_sampled and is_recording, without their calls; an
# enum, Decision has no other members and no subclasses).
_SAMPLED: Any = None
_RECORD_ONLY: Any = None
# Classes seen to be the API's Span: isinstance on an ABC costs more than a set lookup.
_SPAN_TYPES: set[type] = set()


class ServerSpanStart:
    """Starts ``SERVER`` spans on one SDK tracer as its ``start_span`` would (made by
    :meth:`for_tracer`)."""

    __slots__ = (
        "_flags",
        "_ids",
        "_limits",
        "_metrics",
        "_no_metrics",
        "_processor",
        "_random_ids",
        "_sampler",
        "_span_class",
        "_template",
        "_tracer",
    )

    def __init__(self, tracer: Any, sdk: Any, status: Any) -> None:
        self._tracer = tracer
        self._sampler = tracer.sampler
        self._ids = tracer.id_generator
        self._processor = tracer.span_processor
        self._metrics = tracer._tracer_metrics
        self._limits = tracer._span_limits
        util = sys.modules["opentelemetry.sdk.util"]
        self._span_class: type = _server_span_class(sdk._Span, util, sdk.ReadableSpan)
        # The SDK's default id generator and span counters (off unless asked for), whose
        # answers are known: drawn here, and no call (see _known_parts).
        self._random_ids, self._no_metrics = _known_parts(self._ids, self._metrics)
        # (sampled, random trace id) -> the flags: the SDK builds them anew for every span.
        sampled, random = TraceFlags.SAMPLED, TraceFlags.RANDOM_TRACE_ID
        self._flags = {
            (False, False): TraceFlags(TraceFlags.DEFAULT),
            (True, False): TraceFlags(sampled),
            (False, True): TraceFlags(TraceFlags.DEFAULT | random),
            (True, True): TraceFlags(sampled | random),
        }
        # What every server span of this tracer starts with, as start_span's defaults give it.
        self._template: dict[str, Any] = {
            "_kind": SpanKind.SERVER,
            "_instrumentation_info": tracer.instrumentation_info,
            "_instrumentation_scope": tracer._instrumentation_scope,
            "_end_time": None,
            "_resource": tracer.resource,
            "_status": status,
            "_sampler": tracer.sampler,
            "_trace_config": None,
            "_record_exception": True,
            "_set_status_on_exception": True,
            "_span_processor": tracer.span_processor,
            "_limits": tracer._span_limits,
        }

    @classmethod
    def for_tracer(cls, api_tracer: Tracer) -> ServerSpanStart | None:
        """A start for ``api_tracer``'s server spans, or None when it is not exactly the
        SDK's (in the fields relied on here): then ``tracer.start_span`` is the way."""
        global _SPAN_KEY, _SAMPLED, _RECORD_ONLY
        tracer: Any = api_tracer
        sdk = sys.modules.get("opentelemetry.sdk.trace")
        util = sys.modules.get("opentelemetry.sdk.util")
        if sdk is None or util is None or type(tracer) is not sdk.Tracer:
            return None
        span_class = getattr(sdk, "_Span", None)
        key = span_key()
        if (
            span_class is None
            or key is None
            or not all(hasattr(tracer, name) for name in _TRACER_FIELDS)
            or not hasattr(tracer._tracer_config, "is_enabled")
            or not callable(getattr(tracer.id_generator, "is_trace_id_random", None))
            or not hasattr(TraceFlags, "RANDOM_TRACE_ID")
            or not hasattr(TraceFlags, "random_trace_id")
            or tracer.resource is None
            # The span class must be the one start_span makes, and have no fields but these.
            or sdk.Tracer.start_span.__globals__.get("_Span") is not span_class
            # The two ways an event or a link joins a span (see _server_span_class).
            or not all(
                callable(getattr(span_class, name, None))
                for name in ("add_event", "_add_event", "add_link", "_add_link")
            )
        ):
            return None
        probe = span_class(name="probe", context=SpanContext(1, 1, is_remote=False))
        if set(vars(probe)) != _SPAN_FIELDS or probe._trace_config is not None:
            return None
        decisions = sys.modules["opentelemetry.sdk.trace.sampling"].Decision
        sampled_ones = [decision for decision in decisions if decision.is_sampled()]
        recorded_ones = [decision for decision in decisions if decision.is_recording()]
        if len(sampled_ones) != 1 or len(recorded_ones) != 2:
            return None
        _SPAN_KEY = key
        _SAMPLED = sampled_ones[0]
        (_RECORD_ONLY,) = (decision for decision in recorded_ones if decision is not _SAMPLED)
        # The UNSET status the SDK shares between its spans (ReadableSpan's default argument).
        return cls(tracer, sdk, probe._status)

    def start(
        self, name: str, context: Context, attributes: Mapping[str, Any] | None, clean: bool
    ) -> Span:
        """Start the ``SERVER`` span ``name`` with ``context`` as its parent context, as
        ``tracer.start_span(name, context, SpanKind.SERVER, attributes)`` does.

        With ``clean`` the attributes (str keys; str, bool, int or float values) are the
        span's own, unread by the sampler (``_sdk_span.sampler_ignores_attributes``): they go
        into the span as they are, with the SDK's limits checked first (the span's API takes
        any attribute that does not fit, as the SDK would); otherwise the sampler sees them
        and the SDK's attributes clean them.
        """
        # trace.get_current_span(context).get_span_context(), without its calls.
        parent: Any = context.get(_SPAN_KEY)  # type: ignore[arg-type]
        parent_context: SpanContext | None
        if parent is None:
            parent_context = INVALID_SPAN_CONTEXT
        else:
            if type(parent) not in _SPAN_TYPES:
                if not isinstance(parent, Span):
                    parent = None
                else:
                    _SPAN_TYPES.add(type(parent))
            parent_context = (
                parent.get_span_context() if parent is not None else INVALID_SPAN_CONTEXT
            )
        if parent_context is not None and not isinstance(parent_context, SpanContext):
            raise TypeError("parent_span_context must be a SpanContext or None.")
        if not self._tracer._tracer_config.is_enabled:
            return NonRecordingSpan(context=parent_context)  # type: ignore[arg-type]  # as the SDK
        ids = self._ids
        random_ids = self._random_ids
        if parent_context is None or not parent_context.is_valid:
            parent_context = None
            if random_ids:
                # RandomIdGenerator.generate_trace_id: random bits, never the invalid id 0.
                trace_id = getrandbits(128)
                while not trace_id:
                    trace_id = getrandbits(128)
            else:
                trace_id = ids.generate_trace_id()
        else:
            trace_id = parent_context.trace_id
        result = self._sampler.should_sample(
            context, trace_id, name, SpanKind.SERVER, None if clean else attributes, ()
        )
        decision = result.decision
        sampled = decision is _SAMPLED
        recording = sampled or decision is _RECORD_ONLY
        if parent_context is not None:
            random = parent_context.trace_flags.random_trace_id
        else:
            random = random_ids or ids.is_trace_id_random()
        if random_ids:
            span_id = getrandbits(64)
            while not span_id:
                span_id = getrandbits(64)
        else:
            span_id = ids.generate_span_id()
        span_context = SpanContext(
            trace_id,
            span_id,
            is_remote=False,
            trace_flags=self._flags[(sampled, bool(random))],
            trace_state=result.trace_state,
        )
        if self._no_metrics is not None:
            record_end_metrics = self._no_metrics
        else:
            record_end_metrics = self._metrics.start_span(parent_context, decision)
        if not recording:
            return NonRecordingSpan(context=span_context)
        limits = self._limits
        bounded = BoundedAttributes(
            limits.max_span_attributes,
            result.attributes,
            immutable=False,
            max_value_len=limits.max_span_attribute_length,
        )
        span: Any = object.__new__(self._span_class)
        fields = span.__dict__
        fields.update(self._template)
        fields["_name"] = name
        fields["_context"] = span_context
        fields["_parent"] = parent_context
        fields["_attributes"] = bounded
        # No event or link yet: the SDK's empty bounded lists come with the first (see
        # _server_span_class), and until then the span holds two fewer lists, locks and
        # deques (two thirds of a span's memory while the batch processor queues it).
        fields["_events"] = ()
        fields["_links"] = ()
        fields["_lock"] = threading.Lock()
        fields["_record_end_metrics"] = record_end_metrics
        fields["_start_time"] = time_ns()
        if clean and attributes:
            # Clean attributes go straight in while they fit the SDK's limits and none is set
            # yet (the sampler's); otherwise the span's API cleans them, as the SDK would.
            stored = bounded._dict
            maxlen = bounded.maxlen
            if (
                bounded.max_value_len is None
                and (maxlen is None or len(stored) + len(attributes) <= maxlen)
                and (not stored or stored.keys().isdisjoint(attributes))
            ):
                stored.update(attributes)
            else:
                span.set_attributes(attributes)
        self._processor.on_start(span, parent_context=context)
        return span  # type: ignore[no-any-return]


# The SDK's span and ReadableSpan classes -> the server spans' subclass of the span class.
_SERVER_SPAN_CLASSES: dict[tuple[type, type], type] = {}


def _server_span_class(span_class: Any, util: Any, readable_class: Any) -> type:
    """The SDK's span class with its events and links made on first use, and a shorter end.

    The SDK gives every span two empty bounded lists (each an object, a lock and a deque);
    most request spans never get an event or a link. The subclass starts with empty tuples
    (which the SDK's ReadableSpan reads as no events, none dropped) and makes the SDK's
    lists, with the span's limits, before its first event (``add_event``,
    ``record_exception``) or link (``add_link``); the SDK's own methods then do the rest.

    Its ``end`` takes the SDK's steps (the end time, the attributes frozen, the span counters,
    ``_on_ending``, ``on_end`` with a ReadableSpan of the span's fields) without the calls
    that only pass values along: the ReadableSpan is filled with its fields directly when
    they are the ones checked here, and the span counters' no-op end is not called. A span
    not started, or ended already, gets the SDK's own error or warning.
    """
    key = (span_class, readable_class)
    subclass = _SERVER_SPAN_CLASSES.get(key)
    if subclass is not None:
        return subclass
    bounded_list = util.BoundedList
    readable_direct = frozenset(vars(readable_class(name="probe"))) == _READABLE_FIELDS
    counters = sys.modules.get("opentelemetry.sdk.trace._tracer_metrics")
    no_op_end = getattr(counters, "noop", None)

    class ServerSpan(span_class):  # type: ignore[misc]
        """The SDK's span, with its events and links made on first use."""

        def add_event(
            self: Any, name: str, attributes: Any = None, timestamp: int | None = None
        ) -> None:
            """The SDK's ``add_event``, on the span's own bounded list of events."""
            with self._lock:
                if type(self._events) is tuple:
                    self._events = bounded_list(self._limits.max_events)
            super().add_event(name, attributes, timestamp)

        def add_link(self: Any, context: SpanContext, attributes: Any = None) -> None:
            """The SDK's ``add_link``, on the span's own bounded list of links."""
            with self._lock:
                if type(self._links) is tuple:
                    self._links = bounded_list(self._limits.max_links)
            super().add_link(context, attributes)

        def end(self: Any, end_time: int | None = None) -> None:
            """End the span as the SDK's ``end`` does (see :func:`_server_span_class`)."""
            with self._lock:
                ending = self._start_time is not None and self._end_time is None
                if ending:
                    self._end_time = end_time if end_time is not None else time_ns()
                    self._attributes._immutable = True
            if not ending:
                super().end(end_time)
                return
            record_end_metrics = self._record_end_metrics
            if record_end_metrics and record_end_metrics is not no_op_end:
                record_end_metrics()
            processor = self._span_processor
            processor._on_ending(self)
            if not readable_direct:
                processor.on_end(self._readable_span())
                return
            readable = object.__new__(readable_class)
            readable.__dict__.update(
                _name=self._name,
                _context=self._context,
                _kind=self._kind,
                _instrumentation_info=self._instrumentation_info,
                _instrumentation_scope=self._instrumentation_scope,
                _parent=self._parent,
                _start_time=self._start_time,
                _end_time=self._end_time,
                _attributes=self._attributes,
                _events=self._events,
                _links=self._links,
                _resource=self._resource,
                _status=self._status,
            )
            processor.on_end(readable)

    ServerSpan.__qualname__ = ServerSpan.__name__ = span_class.__name__
    _SERVER_SPAN_CLASSES[key] = ServerSpan
    return ServerSpan


def _known_parts(ids: Any, metrics: Any) -> tuple[bool, Any]:
    """Whether ``ids`` is the SDK's RandomIdGenerator (its ids are ``random.getrandbits``,
    redrawn while 0, and its trace ids random), and the span counters' end call when they are
    the SDK's no-op ones (which count nothing): None when they count."""
    generators = sys.modules.get("opentelemetry.sdk.trace.id_generator")
    random_ids = generators is not None and type(ids) is generators.RandomIdGenerator
    counters = sys.modules.get("opentelemetry.sdk.trace._tracer_metrics")
    no_op = getattr(counters, "NoOpTracerMetrics", None)
    end = getattr(counters, "noop", None)
    if no_op is not None and type(metrics) is no_op and callable(end):
        return random_ids, end
    return random_ids, None
