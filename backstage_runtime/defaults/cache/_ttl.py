"""Times to live: what callers pass (ms, timedelta, HumanDuration) to whole milliseconds."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta

from ...api import parse_duration
from ...api.errors import ConfigError
from ...api.services.cache import CacheTtl

__all__ = ["ttl_to_milliseconds"]


def ttl_to_milliseconds(ttl: CacheTtl, *, name: str = "ttl") -> int | None:
    """``ttl`` in whole milliseconds (rounded up, so a tiny TTL never becomes "no expiry"), or
    None for ``0``, which means "never expires" in Backstage (Keyv).

    Raises :class:`ValueError` for a negative or non-finite TTL or a bad duration object and
    :class:`TypeError` for anything else; ``name`` is used in the message.
    """
    if isinstance(ttl, bool):
        raise TypeError(f"Invalid cache {name} {ttl!r}, expected milliseconds or a duration")
    if isinstance(ttl, int | float):
        milliseconds = float(ttl)
    elif isinstance(ttl, timedelta):
        milliseconds = ttl.total_seconds() * 1000
    elif isinstance(ttl, Mapping):
        try:
            milliseconds = parse_duration(ttl, key=name).total_seconds() * 1000
        except ConfigError as error:
            raise ValueError(error.message) from error
    else:
        raise TypeError(
            f"Invalid cache {name} of type {type(ttl).__name__}, expected milliseconds, a "
            "timedelta or a duration object such as {'minutes': 5}"
        )
    if not math.isfinite(milliseconds) or milliseconds < 0:
        raise ValueError(f"Invalid cache {name} {ttl!r}, must be a finite, non-negative duration")
    if milliseconds == 0:
        return None
    return math.ceil(milliseconds)
