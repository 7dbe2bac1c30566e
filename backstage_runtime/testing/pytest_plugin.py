"""The pytest plugin, registered through the ``pytest11`` entry point.

It gives plugin tests a ``test_backend_factory`` fixture: call it (``await``) with the same
arguments as :func:`~backstage_runtime.testing.start_test_backend`; every backend it started is
stopped when the test ends. Async tests need anyio's pytest plugin (``@pytest.mark.anyio``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest

from ._test_backend import TestBackend, start_test_backend

__all__ = ["test_backend_factory"]


@pytest.fixture
async def test_backend_factory() -> AsyncIterator[Callable[..., Awaitable[TestBackend]]]:
    """Start test backends that are stopped automatically after the test."""
    async with AsyncExitStack() as stack:

        async def start(**kwargs: Any) -> TestBackend:
            return await stack.enter_async_context(start_test_backend(**kwargs))

        yield start
