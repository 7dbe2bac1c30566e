"""Keeping aiocache's use of deprecated redis-py calls out of users' output."""

from __future__ import annotations

import warnings

__all__ = ["AIOCACHE_REDIS_MODULE", "DEPRECATED_REDIS_CALLS", "install_warning_filters"]

#: aiocache 0.12.3 (its last release) calls redis-py's ``close()`` (deprecated for ``aclose()``)
#: and ``setex`` (deprecated for ``set(ex=...)``); redis-py words both warnings like this.
DEPRECATED_REDIS_CALLS = r"Call to deprecated (close|setex)\."
#: The module the warnings are attributed to (redis-py warns with the caller's stack level).
AIOCACHE_REDIS_MODULE = r"aiocache\.backends\.redis\Z"


def install_warning_filters() -> None:
    """Ignore exactly those two DeprecationWarnings, and only when aiocache's Redis backend
    triggers them: the same deprecations in users' own code, and every other warning, still show.

    The service itself never takes these paths (it closes clients with ``aclose()`` and passes
    millisecond TTLs, which aiocache sends as ``PSETEX``); the filter covers code that uses
    aiocache's Redis backend directly in the same process. Installing it twice is harmless.
    """
    warnings.filterwarnings(
        "ignore",
        message=DEPRECATED_REDIS_CALLS,
        category=DeprecationWarning,
        module=AIOCACHE_REDIS_MODULE,
    )
