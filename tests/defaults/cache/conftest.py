from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ._redis_server import RedisServer


@pytest.fixture
async def redis_server() -> AsyncIterator[RedisServer]:
    server = RedisServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
