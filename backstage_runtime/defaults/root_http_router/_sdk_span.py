"""A server span's attributes and name written straight into an OpenTelemetry SDK span.

The SDK cleans every attribute value it is handed (a chain of type checks per value, two ABC
checks per mapping, a lock per key) and renames a span through a decorator and a lock: for the
server span's seven attributes and name, a fifth of what tracing added to a request
(callgrind), for values the HTTP middleware builds itself (``str`` keys, ``str`` and ``int``
values: nothing to clean). For the SDK's own span, while it has not ended, with room under its
attribute count limit, no value length limit and none of the keys set yet,
:func:`set_attributes` stores them as the SDK would (under the span's lock); anything else goes
through the span's API, as does every span of another implementation. The name goes with the
attributes, the same way.

What this counts on of the SDK (the span's ``_lock``, ``_end_time``, ``_attributes`` and
``_name``; the ``BoundedAttributes``' ``_dict`` and ``_immutable``) is checked once per span
class; tests/defaults/telemetry/test_http_instruments.py compares the spans with the SDK's own
path's.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from opentelemetry.attributes import BoundedAttributes

__all__ = ["sampler_ignores_attributes", "set_attributes"]

# Span classes (the SDK's, once seen) -> whether their attributes and name can be written directly.
_DIRECT: dict[type, bool] = {}
_SPAN_FIELDS = ("_lock", "_end_time", "_attributes", "_name")
_SAMPLING = "opentelemetry.sdk.trace.sampling"


def _learn(span: Any) -> bool:
    """Whether the spans of ``span``'s class have the SDK's fields (looked at once per class)."""
    sdk = sys.modules.get("opentelemetry.sdk.trace")
    direct = (
        sdk is not None
        and isinstance(span, sdk.Span)
        and all(hasattr(span, name) for name in _SPAN_FIELDS)
        and isinstance(getattr(span._attributes, "_dict", None), dict)
        and hasattr(span._attributes, "_immutable")
    )
    _DIRECT[type(span)] = direct
    return direct


def set_attributes(span: Any, attributes: Mapping[str, Any], name: str | None = None) -> None:
    """Set ``attributes`` (str keys, str or int values) on ``span``, as ``span.set_attributes``,
    then rename it to ``name`` when given, as ``span.update_name``."""
    # The class's answer, looked up here rather than in a function (a call per use).
    direct = _DIRECT.get(type(span))
    if direct is None:
        direct = _learn(span)
    if direct:
        with span._lock:
            if span._end_time is None:
                bounded = span._attributes
                stored = bounded._dict
                maxlen = bounded.maxlen
                if (
                    type(bounded) is BoundedAttributes
                    and not bounded._immutable
                    and bounded.max_value_len is None
                    and (maxlen is None or len(stored) + len(attributes) <= maxlen)
                    # A key set again moves to the end in the SDK: its own path does that.
                    and stored.keys().isdisjoint(attributes)
                ):
                    stored.update(attributes)
                    if name is not None:
                        span._name = name
                    return
    # Limits to apply, an ended span (the SDK's warning), another implementation: its API.
    span.set_attributes(attributes)
    if name is not None:
        span.update_name(name)


def sampler_ignores_attributes(tracer: Any) -> bool:
    """Whether ``tracer`` (an SDK tracer) samples with the SDK's own samplers only, which hand
    a span's start attributes through unread: the attributes can then be set just after the
    start (by :func:`set_attributes`) to the same effect. A sampler of anyone else's may read
    them, and so gets them at the start."""
    sampler = getattr(tracer, "sampler", None)
    return sampler is not None and _sdk_sampler(sampler)


def _sdk_sampler(sampler: object) -> bool:
    # The SDK's static, ratio and parent-based samplers, whose delegates (parent-based) must
    # be the SDK's too; or a sampler that says it hands them through (the backend's default).
    if getattr(type(sampler), "passes_attributes_through", False) is True:
        return True
    if type(sampler).__module__ != _SAMPLING:
        return False
    sampling = sys.modules[_SAMPLING]
    return all(
        _sdk_sampler(value)
        for value in vars(sampler).values()
        if isinstance(value, sampling.Sampler)
    )
