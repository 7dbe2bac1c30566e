"""``TestCaches``: Backstage's cache ids and connection-string variables."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from backstage_runtime.testing import TestCaches

pytestmark = pytest.mark.anyio

VALKEY_ENV = "BACKSTAGE_TEST_CACHE_VALKEY8_CONNECTION_STRING"
REDIS_ENV = "BACKSTAGE_TEST_CACHE_REDIS7_CONNECTION_STRING"
#: Nothing listens on port 1: a server that is down.
NOWHERE = "redis://127.0.0.1:1"


@pytest.fixture
def no_cache_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        VALKEY_ENV,
        REDIS_ENV,
        "BACKSTAGE_TEST_CACHE_REDIS_CONNECTION_STRING",
        "BACKSTAGE_TEST_CACHE_MEMCACHED1_CONNECTION_STRING",
        "BACKSTAGE_TEST_CACHE_MEMCACHED_CONNECTION_STRING",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_ids_are_backstages(no_cache_env: pytest.MonkeyPatch) -> None:
    assert TestCaches.each_supported_id() == ["MEMORY", "REDIS_7", "MEMCACHED_1"]


def test_valkey_is_listed_where_its_variable_names_a_server(
    no_cache_env: pytest.MonkeyPatch,
) -> None:
    no_cache_env.setenv(VALKEY_ENV, "valkey://127.0.0.1:6379")
    assert TestCaches.each_supported_id() == ["MEMORY", "REDIS_7", "VALKEY_8", "MEMCACHED_1"]


async def test_valkey_without_its_variable_skips_locally(no_cache_env: pytest.MonkeyPatch) -> None:
    no_cache_env.delenv("CI", raising=False)
    async with TestCaches() as caches:
        with pytest.raises(pytest.skip.Exception, match=VALKEY_ENV):
            await caches.init("VALKEY_8")


async def test_valkey_without_its_variable_fails_on_ci(no_cache_env: pytest.MonkeyPatch) -> None:
    no_cache_env.setenv("CI", "true")
    async with TestCaches() as caches:
        with pytest.raises(pytest.fail.Exception, match="Valkey is not reachable"):
            await caches.init("VALKEY_8")


async def test_valkey_gets_its_own_store_config_and_key_prefix(
    no_cache_env: pytest.MonkeyPatch,
) -> None:
    # No Valkey server can be installed here; it speaks Redis's protocol, so the local Redis
    # stands in to check what TestCaches makes of the variable (the valkey store's config,
    # the key prefix, the cleanup).
    no_cache_env.setenv(VALKEY_ENV, "valkey://127.0.0.1:6379")
    async with TestCaches() as caches:
        valkey = await caches.init("VALKEY_8")
        assert (valkey.id, valkey.store, valkey.connection) == (
            "VALKEY_8",
            "valkey",
            "valkey://127.0.0.1:6379",
        )
        assert valkey.config["backend"]["cache"]["valkey"] == {
            "client": {"keyPrefix": f"{valkey.namespace}:"}
        }
        manager = valkey.create_manager()
        try:
            await manager.for_plugin("catalog").set("k", "v")
            assert await manager.for_plugin("catalog").get("k") == "v"
        finally:
            await manager.close()
        async with Redis.from_url("redis://127.0.0.1:6379") as probe:
            keys = [key async for key in probe.scan_iter(match=f"{valkey.namespace}:catalog:*")]
            assert len(keys) == 1
    async with Redis.from_url("redis://127.0.0.1:6379") as probe:
        assert [key async for key in probe.scan_iter(match=f"{valkey.namespace}:*")] == []


async def test_redis_7_reads_its_variable(no_cache_env: pytest.MonkeyPatch) -> None:
    no_cache_env.delenv("CI", raising=False)
    no_cache_env.setenv(REDIS_ENV, NOWHERE)
    async with TestCaches() as caches:
        with pytest.raises(
            pytest.skip.Exception, match=r"Redis is not reachable: redis://127\.0\.0\.1:1"
        ):
            await caches.init("REDIS_7")


async def test_the_unversioned_variable_is_still_read(no_cache_env: pytest.MonkeyPatch) -> None:
    no_cache_env.delenv("CI", raising=False)
    no_cache_env.setenv("BACKSTAGE_TEST_CACHE_REDIS_CONNECTION_STRING", NOWHERE)
    async with TestCaches() as caches:
        with pytest.raises(pytest.skip.Exception, match=r"127\.0\.0\.1:1"):
            await caches.init("REDIS_7")


async def test_the_unversioned_ids_still_work(no_cache_env: pytest.MonkeyPatch) -> None:
    async with TestCaches() as caches:
        redis = await caches.init("REDIS")
    assert (redis.id, redis.store) == ("REDIS_7", "redis")


async def test_an_unknown_id_lists_the_known_ones() -> None:
    async with TestCaches() as caches:
        with pytest.raises(ValueError, match="MEMORY, REDIS_7, VALKEY_8, MEMCACHED_1"):
            await caches.init("INFINISPAN_15")  # type: ignore[arg-type]
