"""Caches for tests: ``mock_cache`` (in memory) and ``TestCaches`` (every available real store).

Backstage's ``mockServices.cache`` and ``TestCaches`` in Python.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

from ..api import (
    LoggerService,
    PluginMetadataService,
    ServiceFactory,
    core_services,
    create_service_factory,
)
from ..api.services.cache import CacheService, CacheTtl
from ..defaults.cache import CacheManager, CacheSettings, PluginCache, read_cache_settings
from ..defaults.root_config import create_config_from_data
from ._infrastructure import infrastructure_missing
from ._mock_logger import MockRootLogger
from ._service_mock import ServiceMock, create_service_mock

__all__ = ["CacheStoreId", "TestCache", "TestCaches", "mock_cache"]

#: The stores :class:`TestCaches` knows.
CacheStoreId = Literal["MEMORY", "REDIS", "MEMCACHED"]

#: Where each real store is, as in Backstage's ``BACKSTAGE_TEST_CACHE_*_CONNECTION_STRING``.
REDIS_ENV = "BACKSTAGE_TEST_CACHE_REDIS_CONNECTION_STRING"
MEMCACHED_ENV = "BACKSTAGE_TEST_CACHE_MEMCACHED_CONNECTION_STRING"
DEFAULT_REDIS_CONNECTION = "redis://127.0.0.1:6379"
DEFAULT_MEMCACHED_CONNECTION = "127.0.0.1:11211"


class _MockCache:
    """``mock_cache``: an in-memory cache service, whatever ``backend.cache`` says."""

    def __call__(
        self, plugin_id: str = "test", *, default_ttl: CacheTtl | None = None
    ) -> PluginCache:
        """A fresh, empty in-memory cache for ``plugin_id``."""
        manager = CacheManager(CacheSettings(store="memory"), MockRootLogger(level="error"))
        return _with_default_ttl(manager.for_plugin(plugin_id), default_ttl)

    def factory(self, *, default_ttl: CacheTtl | None = None) -> ServiceFactory[CacheService]:
        """A ``core.cache`` factory: one in-memory store per backend, namespaced per plugin."""

        def create_root_context(*, root_logger: LoggerService) -> CacheManager:
            return CacheManager(
                CacheSettings(store="memory"), root_logger.child({"type": "cacheManager"})
            )

        def factory(
            manager: CacheManager,
            *,
            root_logger: LoggerService,
            plugin_metadata: PluginMetadataService,
        ) -> CacheService:
            return _with_default_ttl(manager.for_plugin(plugin_metadata.get_id()), default_ttl)

        # Checked now, so a bad TTL fails where the factory is created, not at backend start.
        _with_default_ttl(self(), default_ttl)
        return create_service_factory(
            service=core_services.cache,
            deps={
                "root_logger": core_services.root_logger,
                "plugin_metadata": core_services.plugin_metadata,
            },
            create_root_context=create_root_context,
            factory=factory,
        )

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.cache`` (``get``, ``set``, ``delete``, ``with_options``)."""
        return create_service_mock(core_services.cache, CacheService, implementations)


def _with_default_ttl(cache: PluginCache, default_ttl: CacheTtl | None) -> PluginCache:
    return cache if default_ttl is None else cache.with_options(default_ttl=default_ttl)


#: In-memory cache services for tests: ``mock_cache("my-plugin")``, ``mock_cache.factory()``.
mock_cache = _MockCache()


@dataclass(frozen=True)
class TestCache:
    """One store ready for a test: merge :attr:`config` into the backend's config.

    On Redis the keys live under a namespace unique to this ``init`` (removed at cleanup), so
    tests sharing one Redis never see each other's entries. memcached has no namespace option in
    Backstage's config and cannot list keys, so :meth:`create_manager` prefixes its keys with a
    namespace unique to this ``init`` instead (entries expire with the test's TTLs or stay
    unreachable).
    """

    __test__ = False  # not a pytest test class

    id: CacheStoreId
    #: The ``backend.cache.store`` value.
    store: str
    #: The ``backend.cache.connection`` value (None for memory).
    connection: str | None
    #: The key namespace unique to this ``init`` (Redis: ``backend.cache.redis.client.namespace``;
    #: memcached: applied by :meth:`create_manager` only; None for memory).
    namespace: str | None
    #: ``{"backend": {"cache": {...}}}`` for ``start_test_backend(config=...)``.
    config: dict[str, Any] = field(default_factory=dict)

    def create_manager(self, logger: LoggerService | None = None, **options: Any) -> CacheManager:
        """A :class:`CacheManager` on this store (close it, or let the backend do it)."""
        logger = logger if logger is not None else MockRootLogger(level="error")
        settings = read_cache_settings(
            create_config_from_data(self.config, context="test-cache"), logger
        )
        if self.id == "MEMCACHED" and self.namespace:
            settings = replace(settings, namespace_prefix=f"{self.namespace}:")
        return CacheManager(settings, logger, **options)


class TestCaches:
    """Runs tests against every cache store this machine has, like Backstage's ``TestCaches``.

    ``MEMORY`` always; ``REDIS`` at ``$BACKSTAGE_TEST_CACHE_REDIS_CONNECTION_STRING`` (default
    ``redis://127.0.0.1:6379``); ``MEMCACHED`` at
    ``$BACKSTAGE_TEST_CACHE_MEMCACHED_CONNECTION_STRING`` (default ``127.0.0.1:11211``, with the
    optional ``aiomcache``). :meth:`init` of a store that is not reachable skips the test locally
    and fails it on CI (see ``infrastructure_missing``).
    Use it as an async context manager so the test's Redis keys are removed afterwards::

        @pytest.fixture(params=TestCaches.each_supported_id())
        async def test_cache(request):
            async with TestCaches() as caches:
                yield await caches.init(request.param)
    """

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self._cleanups: list[Callable[[], Awaitable[None]]] = []

    @staticmethod
    def each_supported_id() -> list[CacheStoreId]:
        """The ids to parametrise over on this machine."""
        # Every store, always: one that is missing here is skipped (failed on CI) by init(), so a
        # machine without memcached says so instead of silently testing less.
        return ["MEMORY", "REDIS", "MEMCACHED"]

    async def init(self, store_id: CacheStoreId) -> TestCache:
        """Prepare ``store_id`` for one test (unreachable: skipped locally, failed on CI)."""
        if store_id == "MEMORY":
            return TestCache(
                "MEMORY", "memory", None, None, {"backend": {"cache": {"store": "memory"}}}
            )
        if store_id == "REDIS":
            return await self._init_redis()
        if store_id == "MEMCACHED":
            return await self._init_memcached()
        raise ValueError(
            f"Unknown cache store id {store_id!r}, expected one of MEMORY, REDIS, MEMCACHED"
        )

    async def cleanup(self) -> None:
        """Remove what the tests stored and close the connections used for that."""
        cleanups, self._cleanups = self._cleanups, []
        for cleanup in reversed(cleanups):
            await cleanup()

    async def __aenter__(self) -> TestCaches:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.cleanup()

    async def _init_redis(self) -> TestCache:
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        connection = os.environ.get(REDIS_ENV) or DEFAULT_REDIS_CONNECTION
        client = Redis.from_url(connection, socket_connect_timeout=2, socket_timeout=2)
        try:
            await client.ping()
        except (RedisError, OSError) as error:
            await client.aclose()
            infrastructure_missing("Redis", f"{_safe_location(connection)}: {error}")
        namespace = f"test-{uuid.uuid4().hex[:16]}"

        async def remove_keys() -> None:
            try:
                async for key in client.scan_iter(match=f"{namespace}:*", count=500):
                    await client.unlink(key)
            finally:
                await client.aclose()

        self._cleanups.append(remove_keys)
        config = {
            "store": "redis",
            "connection": connection,
            "redis": {"client": {"namespace": namespace}},
        }
        return TestCache("REDIS", "redis", connection, namespace, {"backend": {"cache": config}})

    async def _init_memcached(self) -> TestCache:
        connection = os.environ.get(MEMCACHED_ENV) or DEFAULT_MEMCACHED_CONNECTION
        try:
            import aiomcache  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            infrastructure_missing("memcached", "the 'aiomcache' package is not installed")
        host, _, port = connection.rpartition(":")
        client = aiomcache.Client(host, int(port))
        try:
            await client.version()
        except Exception as error:  # aiomcache raises OSError or its own errors
            infrastructure_missing("memcached", f"{connection}: {error}")
        finally:
            await client.close()
        config = {"store": "memcache", "connection": connection}
        namespace = f"test-{uuid.uuid4().hex[:16]}"
        return TestCache(
            "MEMCACHED", "memcache", connection, namespace, {"backend": {"cache": config}}
        )


def _safe_location(url: str) -> str:
    # Name the server without the password the URL may carry.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}"
