"""The default ``core.cache`` factory in a backend, ``mock_cache``, ``TestCaches``, warnings."""

from __future__ import annotations

import sys
import warnings
from typing import Any

import pytest
from _support.features import plugin_with_init
from aiocache import RedisCache  # type: ignore[import-untyped]
from redis.asyncio import Redis

from backstage_runtime import core_services
from backstage_runtime.api.errors import BackendStartupError, ConfigError
from backstage_runtime.defaults.cache import CacheManager, PluginCache, cache_service_factory
from backstage_runtime.defaults.cache._warnings import install_warning_filters
from backstage_runtime.defaults.root_config import create_config_from_data
from backstage_runtime.testing import MockRootLogger, start_test_backend
from backstage_runtime.testing._caches import TestCache, TestCaches, mock_cache

from ._redis_server import free_port

pytestmark = pytest.mark.anyio


def keep_cache(plugin_id: str, into: dict[str, Any]) -> Any:
    return plugin_with_init(
        plugin_id, {"cache": core_services.cache}, lambda cache: into.__setitem__(plugin_id, cache)
    )


async def test_default_factory_is_memory_without_config() -> None:
    got: dict[str, Any] = {}
    async with start_test_backend(features=[cache_service_factory(), keep_cache("p", got)]) as test:
        cache = got["p"]
        assert isinstance(cache, PluginCache)
        assert cache.plugin_id == "p"
        await cache.set("k", [1, 2])
        assert await cache.get("k") == [1, 2]
        assert cache.stored_key("k") == "p:aw=="
    assert test.logger.messages("warn") == []


async def test_config_errors_fail_the_start_and_name_the_key() -> None:
    got: dict[str, Any] = {}
    with pytest.raises(BackendStartupError) as caught:
        async with start_test_backend(
            features=[cache_service_factory(), keep_cache("p", got)],
            config={"backend": {"cache": {"store": "redis", "defaultTtl": "forever"}}},
        ):
            pass
    assert "backend.cache.defaultTtl" in str(caught.value)
    assert got == {}


def test_memcache_without_aiomcache_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes `import aiomcache` raise ImportError, as if not installed.
    monkeypatch.setitem(sys.modules, "aiomcache", None)
    config = create_config_from_data({"backend": {"cache": {"store": "memcache", "memcache": {}}}})
    with pytest.raises(ConfigError, match=r"'backend\.cache\.store' needs the 'aiomcache' package"):
        CacheManager.from_config(config, MockRootLogger())


async def test_mock_cache_instances_are_fresh_and_in_memory() -> None:
    first, second = mock_cache("catalog"), mock_cache("catalog")
    await first.set("k", "v")
    assert await first.get("k") == "v"
    assert await second.get("k") is None
    assert mock_cache(default_ttl={"seconds": 30}).default_ttl_ms == 30_000
    assert mock_cache().plugin_id == "test"


async def test_mock_cache_factory_ignores_the_configured_store() -> None:
    got: dict[str, Any] = {}
    unreachable = f"redis://127.0.0.1:{free_port()}"
    async with start_test_backend(
        features=[
            mock_cache.factory(default_ttl=60_000),
            keep_cache("a", got),
            keep_cache("b", got),
        ],
        config={"backend": {"cache": {"store": "redis", "connection": unreachable}}},
    ) as test:
        await got["a"].set("k", "a's")
        assert await got["b"].get("k") is None
        assert await got["a"].get("k") == "a's"
        assert got["a"].default_ttl_ms == 60_000
        assert got["a"].metrics.store_errors == 0
    assert test.logger.messages("warn") == []


async def test_test_caches_isolates_and_cleans_up_redis() -> None:
    async with TestCaches() as caches:
        first, second = await caches.init("REDIS_7"), await caches.init("REDIS_7")
        assert first.namespace != second.namespace
        managers = [first.create_manager(), second.create_manager()]
        try:
            await managers[0].for_plugin("p").set("k", 1)
            assert await managers[1].for_plugin("p").get("k") is None
        finally:
            for manager in managers:
                await manager.close()
        assert first.connection is not None
        async with Redis.from_url(first.connection) as probe:
            assert [key async for key in probe.scan_iter(match=f"{first.namespace}:*")] != []
    async with Redis.from_url(first.connection) as probe:
        assert [key async for key in probe.scan_iter(match=f"{first.namespace}:*")] == []


async def test_test_caches_ids() -> None:
    assert TestCaches.each_supported_id()[:2] == ["MEMORY", "REDIS_7"]
    async with TestCaches() as caches:
        memory = await caches.init("MEMORY")
        assert memory == TestCache("MEMORY", "memory", None, None, memory.config)
        with pytest.raises(ValueError, match="Unknown cache store id"):
            await caches.init("MONGO")  # type: ignore[arg-type]


async def test_cache_operations_emit_no_deprecation_warnings(test_cache: TestCache) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ahead of every filter, ours included
        manager = test_cache.create_manager()
        try:
            cache = manager.for_plugin("p")
            await cache.set("a", 1)
            await cache.set("b", 2, ttl=60_000)
            assert await cache.get("b") == 2
            await cache.delete("a")
        finally:
            await manager.close()


async def aiocache_then_own_deprecated_calls(url: str, namespace: str) -> None:
    """Use aiocache's Redis backend the deprecated way, then call a deprecated method ourselves."""
    client = RedisCache(namespace=namespace, timeout=None)
    client.client = Redis.from_url(url)
    await client.set("k", "v", ttl=1)  # aiocache sends the deprecated SETEX
    await client.delete("k")
    await client.close()  # aiocache calls the deprecated close()
    own = Redis.from_url(url)
    await own.close()  # the same deprecation from other code


async def test_the_warning_filter_hides_only_aiocaches_deprecated_redis_calls() -> None:
    async with TestCaches() as caches:
        target = await caches.init("REDIS_7")
        assert target.connection is not None
        assert target.namespace is not None
        caught_by_filter: dict[bool, list[tuple[str, str]]] = {}
        for with_filter in (False, True):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if with_filter:
                    install_warning_filters()  # what importing the cache service did, on top
                await aiocache_then_own_deprecated_calls(target.connection, target.namespace)
            caught_by_filter[with_filter] = [
                (str(w.message).split(" (")[0], w.filename.rsplit("/", 2)[-1])
                for w in caught
                if issubclass(w.category, DeprecationWarning)
            ]
    # Without the filter aiocache's deprecated calls show, then ours. Which of aiocache's calls
    # redis-py deprecates depends on its release (8.2 no longer deprecates SETEX; every release
    # we support deprecates close()), so only those two are pinned.
    aiocache_calls = [found for found in caught_by_filter[False] if found[1] == "redis.py"]
    assert ("Call to deprecated close.", "redis.py") in aiocache_calls
    assert set(aiocache_calls) <= {
        ("Call to deprecated setex.", "redis.py"),
        ("Call to deprecated close.", "redis.py"),
    }
    assert caught_by_filter[False] == [
        *aiocache_calls,
        ("Call to deprecated close.", "test_cache_factory.py"),
    ]
    # With it only ours does.
    assert caught_by_filter[True] == [("Call to deprecated close.", "test_cache_factory.py")]


async def test_an_unreachable_memcached_reads_as_misses() -> None:
    pytest.importorskip("aiomcache", reason="the memcache store needs the optional aiomcache")
    logger = MockRootLogger()
    config = create_config_from_data(
        {"backend": {"cache": {"store": "memcache", "connection": f"127.0.0.1:{free_port()}"}}}
    )
    manager = CacheManager.from_config(config, logger)
    try:
        cache = manager.for_plugin("p")
        assert await cache.get("k") is None
        await cache.set("k", 1, ttl=1500)
        await cache.delete("k")
        assert manager.metrics.outages == 1
        assert manager.metrics.store_errors + manager.metrics.skipped_operations == 3
        assert logger.messages("warn")[-1].startswith("Cache store 'memcache' is unreachable")
    finally:
        await manager.close()
