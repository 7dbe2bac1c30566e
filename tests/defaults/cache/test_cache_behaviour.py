"""The cache service's behaviour, the same on every store (memory, Redis, memcached if set up)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from _support.features import plugin_with_init

from backstage_runtime import core_services
from backstage_runtime.defaults.cache import CacheManager, PluginCache, cache_service_factory
from backstage_runtime.testing import start_test_backend
from backstage_runtime.testing._caches import TestCache

from ._polling import eventually

pytestmark = pytest.mark.anyio


@pytest.fixture
async def manager(test_cache: TestCache) -> AsyncIterator[CacheManager]:
    manager = test_cache.create_manager()
    try:
        yield manager
    finally:
        await manager.close()


@pytest.fixture
def cache(manager: CacheManager) -> PluginCache:
    return manager.for_plugin("catalog")


async def expires(cache: PluginCache, key: str) -> None:
    async def gone() -> bool:
        return await cache.get(key) is None

    await eventually(gone, what=f"'{key}' to expire", timeout=5)


async def test_get_set_delete(cache: PluginCache) -> None:
    assert await cache.get("missing") is None
    await cache.set("greeting", "hello")
    assert await cache.get("greeting") == "hello"
    await cache.set("greeting", "bye")
    assert await cache.get("greeting") == "bye"
    await cache.delete("greeting")
    assert await cache.get("greeting") is None
    await cache.delete("greeting")  # deleting a missing key is fine


NESTED: dict[str, Any] = {
    "name": "component:default/x",
    "count": 3,
    "ratio": 0.25,
    "flags": [True, False, None],
    "nested": {"deeper": [{"a": 1}, [], {}], "empty": ""},
    "colon": ":leading colon",
    "buffer-like": ":base64:AAAA",
    "unicode": "zażółć 🎉",
    ":key with colon": "kept",
}


@pytest.mark.parametrize(
    "value",
    [NESTED, [1, "two", [3.5, {"four": None}]], "plain", ":x", "", 0, -7, 1.5, True, False],
    ids=repr,
)
async def test_json_values_round_trip(cache: PluginCache, value: Any) -> None:
    await cache.set("value", value)
    assert await cache.get("value") == value


async def test_values_are_copies(cache: PluginCache) -> None:
    value: dict[str, Any] = {"items": [1]}
    await cache.set("v", value)
    value["items"].append(2)
    got = await cache.get("v")
    assert got == {"items": [1]}
    assert isinstance(got, dict)
    got["items"] = []
    assert await cache.get("v") == {"items": [1]}


async def test_non_json_values_raise(cache: PluginCache) -> None:
    with pytest.raises(TypeError):
        await cache.set("v", {"when": object()})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="JSON"):
        await cache.set("v", float("nan"))
    assert await cache.get("v") is None


async def test_ttl_expiry(cache: PluginCache) -> None:
    await cache.set("short", "soon gone", ttl=300)
    await cache.set("long", "stays", ttl=timedelta(minutes=5))
    assert await cache.get("short") == "soon gone"
    await expires(cache, "short")
    assert await cache.get("long") == "stays"


async def test_ttl_as_duration_object(cache: PluginCache) -> None:
    await cache.set("short", 1, ttl={"milliseconds": 300})
    assert await cache.get("short") == 1
    await expires(cache, "short")


async def test_with_options_default_ttl(cache: PluginCache) -> None:
    short = cache.with_options(default_ttl=300)
    await short.set("a", "short")
    await short.set("b", "explicit ttl wins", ttl=timedelta(minutes=5))
    await cache.set("c", "no expiry")
    # Same namespace: the original client sees the entries written through the new one.
    assert await cache.get("a") == "short"
    await expires(cache, "a")
    assert await short.get("b") == "explicit ttl wins"
    assert await short.get("c") == "no expiry"


async def test_ttl_zero_means_no_expiry_even_with_a_default(cache: PluginCache) -> None:
    short = cache.with_options(default_ttl=200)
    await short.set("forever", "yes", ttl=0)
    await short.set("marker", "gone", ttl=200)
    await expires(short, "marker")
    assert await short.get("forever") == "yes"


async def test_config_default_ttl(test_cache: TestCache) -> None:
    config = {"backend": {"cache": {**test_cache.config["backend"]["cache"], "defaultTtl": 300}}}
    manager = dataclasses.replace(test_cache, config=config).create_manager()
    try:
        cache = manager.for_plugin("catalog")
        await cache.set("a", 1)
        await cache.set("b", 2, ttl=timedelta(minutes=5))
        longer = cache.with_options(default_ttl=timedelta(minutes=5))
        await longer.set("c", 3)
        assert await cache.get("a") == 1
        await expires(cache, "a")
        assert (await cache.get("b"), await cache.get("c")) == (2, 3)
    finally:
        await manager.close()


async def test_bad_ttls_raise(cache: PluginCache) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        await cache.set("a", 1, ttl=-1)
    with pytest.raises(TypeError):
        await cache.set("a", 1, ttl="5m")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown or missing units"):
        cache.with_options(default_ttl={"fortnights": 1})


@pytest.mark.parametrize(
    "key",
    ["simple", "with spaces and / slashes:colons", "zażółć 🎉", "", "x" * 147, "y" * 148],
    ids=["simple", "punctuation", "unicode", "empty", "longest-base64", "hashed"],
)
async def test_keys_are_stored_as_backstage_does(
    cache: PluginCache, manager: CacheManager, test_cache: TestCache, key: str
) -> None:
    await cache.set(key, "value")
    assert await cache.get(key) == "value"
    encoded = base64.b64encode(key.encode()).decode()
    if len(encoded) >= 200:
        encoded = base64.b64encode(hashlib.sha256(key.encode()).digest()).decode()
    namespace = f"{test_cache.namespace}:" if test_cache.namespace else ""
    stored = f"{namespace}catalog:{encoded}"
    assert cache.stored_key(key) == stored
    if test_cache.store in ("redis", "valkey"):
        assert await manager.store.backend.client.exists(stored) == 1
    elif test_cache.id == "MEMORY":
        assert stored in manager.store.backend._cache


async def test_two_plugins_never_see_each_others_keys(manager: CacheManager) -> None:
    catalog, scaffolder = manager.for_plugin("catalog"), manager.for_plugin("scaffolder")
    await catalog.set("shared-key", "catalog's")
    assert await scaffolder.get("shared-key") is None
    await scaffolder.set("shared-key", "scaffolder's")
    assert await catalog.get("shared-key") == "catalog's"
    await scaffolder.delete("shared-key")
    assert await catalog.get("shared-key") == "catalog's"
    assert await scaffolder.get("shared-key") is None


async def test_plugins_of_a_real_backend_are_isolated(test_cache: TestCache) -> None:
    caches: dict[str, Any] = {}

    def keep(plugin_id: str) -> Any:
        def init(cache: Any) -> None:
            caches[plugin_id] = cache

        return plugin_with_init(plugin_id, {"cache": core_services.cache}, init)

    async with start_test_backend(
        features=[cache_service_factory(), keep("alpha"), keep("beta")], config=test_cache.config
    ) as test:
        await caches["alpha"].set("k", {"owner": "alpha"})
        await caches["beta"].set("k", {"owner": "beta"})
        assert await caches["alpha"].get("k") == {"owner": "alpha"}
        assert await caches["beta"].get("k") == {"owner": "beta"}
        # The service handed to the plugin is the one the backend resolves for that plugin.
        assert await (await test.get_service(core_services.cache, "beta")).get("k") == {
            "owner": "beta"
        }
        assert caches["alpha"].metrics.store_errors == 0


async def test_expired_entries_are_misses_even_if_the_store_still_has_them(
    cache: PluginCache, manager: CacheManager
) -> None:
    # A Node instance with a clock ahead, or a store TTL lost on copy: Keyv's "expires" decides.
    past = int(time.time() * 1000) - 1000
    await manager.store.set(cache.stored_key("old"), f'{{"value":"stale","expires":{past}}}', None)
    await manager.store.set(cache.stored_key("new"), '{"value":"fresh"}', None)
    assert await cache.get("old") is None
    assert await cache.get("new") == "fresh"
