"""``backend.eventLoop`` (our key): the asyncio event loop ``serve`` runs a backend on.

``asyncio`` (the default) is the standard library's loop. ``uvloop`` (the ``uvloop`` extra)
serves the same requests with fewer instructions: a GET of a plugin route over a keep-alive
connection took 8% fewer (callgrind, see the README's Benchmarks). ``auto`` takes uvloop when
it is installed. Quart, Hypercorn and anyio run unchanged on either.
"""

from __future__ import annotations

import importlib.util
from typing import Literal

from ..api import Config
from ..api.errors import ConfigError

__all__ = ["EVENT_LOOP_KEY", "EventLoop", "read_event_loop"]

EVENT_LOOP_KEY = "backend.eventLoop"

#: The loop a backend runs on.
EventLoop = Literal["asyncio", "uvloop"]

_CHOICES = ("asyncio", "uvloop", "auto")


def read_event_loop(config: Config) -> EventLoop:
    """The loop ``backend.eventLoop`` asks for (default ``asyncio``).

    Raises :class:`ConfigError` naming the key for an unknown value, or for ``uvloop`` when
    uvloop is not installed (``auto`` then falls back to ``asyncio``).
    """
    value = config.get_optional_string(EVENT_LOOP_KEY) or "asyncio"
    if value not in _CHOICES:
        raise ConfigError(
            f"Invalid config at '{EVENT_LOOP_KEY}': expected one of {', '.join(_CHOICES)}, "
            f"got '{value}'"
        )
    if value == "asyncio":
        return "asyncio"
    installed = importlib.util.find_spec("uvloop") is not None
    if value == "auto":
        return "uvloop" if installed else "asyncio"
    if not installed:
        raise ConfigError(
            f"Invalid config at '{EVENT_LOOP_KEY}': 'uvloop' is not installed "
            "(pip install 'backstage-runtime[uvloop]'), or use 'auto' to fall back to asyncio"
        )
    return "uvloop"
