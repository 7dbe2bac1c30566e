"""Waiting for a condition with a deadline (never a fixed sleep standing in for a sync point)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio


async def eventually(condition: Callable[[], bool | Awaitable[bool]], timeout: float = 5.0) -> None:
    """Return once ``condition()`` is true; fail after ``timeout`` seconds."""
    with anyio.fail_after(timeout):
        while True:
            result = condition()
            if not isinstance(result, bool):
                result = await result
            if result:
                return
            await anyio.sleep(0.005)
