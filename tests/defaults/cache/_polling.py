"""Waiting for a condition with a deadline (never a bare sleep as synchronisation)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import pytest


async def eventually(
    check: Callable[[], Awaitable[bool]], *, what: str, timeout: float = 10.0
) -> None:
    """Poll ``check`` every 20 ms until it returns True; fail the test after ``timeout`` s."""
    with anyio.move_on_after(timeout):
        while True:
            if await check():
                return
            await anyio.sleep(0.02)  # polling interval, not a synchronisation
    pytest.fail(f"Timed out after {timeout:g}s waiting for {what}")
