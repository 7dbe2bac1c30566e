"""The SDK's default sampler (``parentbased_always_on``) with a short way for a span that has no
parent: the usual request span, whose context holds nothing yet.

The SDK's ``ParentBased(ALWAYS_ON)`` looks the parent span up twice in that empty context (once
for the decision, once for the trace state) and builds a new result each time: ten calls for an
answer that is always the same. :class:`ParentBasedAlwaysOn` answers an empty context itself,
with what the SDK's sampler answers there (sampled, the span's own start attributes, no trace
state), and hands every other context to the SDK's sampler.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

__all__ = ["ParentBasedAlwaysOn", "default_sampler"]

# Without start attributes (the request span's come just after its start): one answer for all.
# The SDK copies a result's attributes into the span, so sharing it shares nothing writable.
_SAMPLED = SamplingResult(Decision.RECORD_AND_SAMPLE)


class ParentBasedAlwaysOn(Sampler):
    """``ParentBased(ALWAYS_ON)``: a parent's decision is kept, a span without one is sampled.

    Its start attributes are handed through unread, as the SDK's samplers do.
    """

    #: Read by the HTTP tracing middleware: a span's start attributes may as well be set just
    #: after its start (see ``_sdk_span.sampler_ignores_attributes``).
    passes_attributes_through = True

    def __init__(self) -> None:
        self._sdk = ParentBased(ALWAYS_ON)

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        """Sampled when the context holds nothing (no parent span can be in it); otherwise the
        SDK's parent-based decision."""
        if parent_context is not None and not parent_context:
            if not attributes:
                return _SAMPLED
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)
        return self._sdk.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        """The SDK's description of the same sampler."""
        # ParentBased's is unannotated in the SDK.
        description: str = self._sdk.get_description()  # type: ignore[no-untyped-call]
        return description


def default_sampler() -> Sampler | None:
    """:class:`ParentBasedAlwaysOn` when ``OTEL_TRACES_SAMPLER`` asks for the default sampler
    (or nothing), else None: the SDK then builds the sampler the variables name."""
    chosen = os.environ.get("OTEL_TRACES_SAMPLER", "parentbased_always_on").strip().lower()
    return ParentBasedAlwaysOn() if chosen == "parentbased_always_on" else None
