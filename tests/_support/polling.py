"""Waiting for a condition with a deadline (never a fixed sleep standing in for a sync point)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], timeout: float = 5.0, interval: float = 0.005
) -> None:
    """Return once ``condition()`` is true (asked every ``interval`` seconds); fail after
    ``timeout`` seconds."""
    with anyio.fail_after(timeout):
        while True:
            result = condition()
            if not isinstance(result, bool):
                result = await result
            if result:
                return
            await anyio.sleep(interval)
