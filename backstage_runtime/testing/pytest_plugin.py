"""The pytest plugin, registered through the ``pytest11`` entry point.

Fixtures for plugin tests (async tests need anyio's pytest plugin, ``@pytest.mark.anyio``):

- ``test_backend_factory``: call it (``await``) with the arguments of
  :func:`~backstage_runtime.testing.start_test_backend`; every backend it started is stopped
  when the test ends.
- ``test_databases``: a :class:`~backstage_runtime.testing.TestDatabases` whose databases are
  dropped when the test ends (``await test_databases.init("POSTGRES")`` for an engine,
  ``await test_databases.init_service("POSTGRES", plugin_id="todo")`` for a plugin's
  database service).
- ``mock_directory``: a :class:`~backstage_runtime.testing.MockDirectory`, empty, removed
  when the test ends (``mock_directory.set_content({"a.txt": "hello"})``).
- ``mock_http``: a :class:`~backstage_runtime.testing.MockHttp` answering the test's outgoing
  aiohttp requests (needs the ``test-utils`` extra); requests to 127.0.0.1 still go through.
- ``test_cache``: the test runs once per cache store (``MEMORY``, ``REDIS_7``, ``VALKEY_8``
  and ``MEMCACHED_1``; Valkey at the server its variable names, else on a private
  ``valkey-server`` the process starts), each in a namespace of its own that is removed
  afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest

from ._caches import TestCache, TestCaches
from ._databases import TestDatabases
from ._mock_directory import MockDirectory, create_mock_directory
from ._mock_http import MockHttp, create_mock_http
from ._test_backend import TestBackend, start_test_backend

__all__ = ["mock_directory", "mock_http", "test_backend_factory", "test_cache", "test_databases"]


@pytest.fixture
async def test_backend_factory() -> AsyncIterator[Callable[..., Awaitable[TestBackend]]]:
    """Start test backends that are stopped automatically after the test."""
    async with AsyncExitStack() as stack:

        async def start(**kwargs: Any) -> TestBackend:
            return await stack.enter_async_context(start_test_backend(**kwargs))

        yield start


@pytest.fixture
async def test_databases() -> AsyncIterator[TestDatabases]:
    """SQLite, PostgreSQL and MySQL test databases, dropped when the test ends."""
    async with TestDatabases.create() as databases:
        yield databases


@pytest.fixture(params=TestCaches.each_supported_id(), ids=str.lower)
async def test_cache(request: pytest.FixtureRequest) -> AsyncIterator[TestCache]:
    """The test once per cache store (a missing one skips locally and fails on CI)."""
    async with TestCaches() as caches:
        yield await caches.init(request.param)


@pytest.fixture
def mock_directory() -> Iterator[MockDirectory]:
    """An empty temporary directory (Backstage's ``createMockDirectory``), removed afterwards."""
    with create_mock_directory() as directory:
        yield directory


@pytest.fixture
def mock_http() -> Iterator[MockHttp]:
    """Outgoing aiohttp requests answered by the test's mocks (Backstage's msw test hooks);
    an unmocked request fails, and every mock is gone after the test.
    """
    with create_mock_http() as mocker:
        yield mocker
