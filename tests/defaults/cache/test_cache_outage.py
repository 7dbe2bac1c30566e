"""A real Redis going away and coming back under a running backend; connections at shutdown."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import anyio
import pytest
from _support.features import plugin_with_init
from quart import Blueprint
from redis.asyncio import Redis

from backstage_runtime import core_services
from backstage_runtime.defaults.cache import (
    CacheManager,
    PluginCache,
    cache_service_factory,
    read_cache_settings,
)
from backstage_runtime.defaults.root_config import create_config_from_data
from backstage_runtime.testing import MockRootLogger, start_test_backend

from ._polling import eventually
from ._redis_server import RedisServer

pytestmark = pytest.mark.anyio


def profile_plugin(handlers: dict[str, Any]) -> Any:
    """A plugin whose route reads through the cache: GET /api/profiles/profiles/<name>."""

    def init(cache: PluginCache, http: Any) -> None:
        routes = Blueprint("profiles", __name__)

        @routes.get("/profiles/<name>")
        async def profile(name: str) -> Any:
            cached = await cache.get(f"profile:{name}")
            if cached is not None:
                return {"profile": cached, "cached": True}
            loaded: dict[str, Any] = {"name": name, "loadedAt": time.time()}
            await cache.set(f"profile:{name}", loaded, ttl={"minutes": 5})
            return {"profile": loaded, "cached": False}

        http.use(routes)
        http.add_auth_policy(path="/profiles", allow="unauthenticated")
        handlers["cache"] = cache

    return plugin_with_init(
        "profiles", {"cache": core_services.cache, "http": core_services.http_router}, init
    )


def client_for(test: Any) -> Callable[[str], Awaitable[dict[str, Any]]]:
    """GET a profile through the backend's HTTP server; any status but 200 fails the test."""

    async def lookup(name: str) -> dict[str, Any]:
        url = await test.url(f"/api/profiles/profiles/{name}")
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 200, await response.text()
            body: dict[str, Any] = await response.json()
            return body

    return lookup


def redis_config(server: RedisServer, **client: Any) -> dict[str, Any]:
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    return {
        "backend": {
            "cache": {
                "store": "redis",
                "connection": server.url,
                "redis": {"client": {"namespace": namespace, **client}},
            }
        }
    }


async def test_requests_survive_a_redis_outage_and_the_cache_recovers(
    redis_server: RedisServer,
) -> None:
    handlers: dict[str, Any] = {}
    async with start_test_backend(
        features=[cache_service_factory(), profile_plugin(handlers)],
        config=redis_config(redis_server),
    ) as test:
        lookup = client_for(test)
        cache: PluginCache = handlers["cache"]
        assert (await lookup("ada"))["cached"] is False
        assert (await lookup("ada"))["cached"] is True

        await redis_server.stop()
        operations_before = cache.metrics.store_errors + cache.metrics.skipped_operations
        for _ in range(20):
            answer = await lookup("ada")  # served, from the source instead of the cache
            assert answer["cached"] is False
            assert answer["profile"]["name"] == "ada"
        assert await cache.get("profile:ada") is None
        await cache.delete("profile:ada")

        metrics = cache.metrics
        # Every operation during the outage either failed or was skipped; none raised.
        assert metrics.store_errors + metrics.skipped_operations - operations_before == 42
        assert metrics.store_errors >= 1
        assert metrics.outages == 1
        cache_warnings = [
            e
            for e in test.logger.entries
            if e.level == "warn" and e.fields.get("type") == "cacheManager"
        ]
        assert [e.message for e in cache_warnings] == [
            "Cache store 'redis' is unreachable; cache reads act as misses and writes are "
            "dropped until it is back"
        ]
        assert f"connecting to 127.0.0.1:{redis_server.port}" in cache_warnings[0].fields["error"]

        await redis_server.start()  # same port, empty (no persistence)

        async def cached_again() -> bool:
            await lookup("grace")
            return bool((await lookup("grace"))["cached"])

        await eventually(cached_again, what="the cache to work again after Redis came back")
        assert metrics.recoveries == 1
        assert "Cache store 'redis' is reachable again" in test.logger.messages("info")
        assert (await lookup("ada"))["cached"] is False  # written again, since Redis lost it
        assert (await lookup("ada"))["cached"] is True


async def test_a_hung_redis_costs_one_timeout_then_requests_skip_it(
    redis_server: RedisServer,
) -> None:
    now = [0.0]
    config = create_config_from_data(
        redis_config(redis_server, socket={"socketTimeout": 300, "connectTimeout": 300})
    )
    logger = MockRootLogger()
    manager = CacheManager(
        read_cache_settings(config, logger),
        logger,
        retry_interval=1.0,
        clock=lambda: now[0],
    )
    try:
        cache = manager.for_plugin("profiles")
        await cache.set("k", "v")
        assert await cache.get("k") == "v"

        redis_server.pause()  # accepts connections, answers nothing
        started = time.monotonic()
        assert await cache.get("k") is None  # waits for the 300 ms socket timeout
        assert time.monotonic() - started >= 0.25
        assert not manager.store_available

        started = time.monotonic()
        for _ in range(50):
            assert await cache.get("k") is None
            await cache.set("k", "w")
        assert time.monotonic() - started < 0.25  # 100 operations, no timeout paid
        assert manager.metrics.skipped_operations == 100

        redis_server.resume()
        now[0] += 1.0  # the retry interval has passed
        assert await cache.get("k") == "v"
        assert manager.store_available
    finally:
        redis_server.resume()
        await manager.close()


async def test_two_redis_outages_within_a_minute_are_each_announced_with_their_recovery(
    redis_server: RedisServer,
) -> None:
    now = [0.0]
    logger = MockRootLogger()
    manager = CacheManager(
        read_cache_settings(create_config_from_data(redis_config(redis_server)), logger),
        logger,
        retry_interval=1.0,
        warning_interval=60.0,
        clock=lambda: now[0],
    )
    unreachable = (
        "Cache store 'redis' is unreachable; cache reads act as misses and writes are dropped "
        "until it is back"
    )
    try:
        cache = manager.for_plugin("profiles")
        await cache.set("k", "v")
        for outage in (1, 2):
            await redis_server.stop()
            assert await cache.get("k") is None
            assert not manager.store_available
            assert logger.messages("warn") == [unreachable] * outage
            assert f"127.0.0.1:{redis_server.port}" in logger.entries[-1].fields["error"]

            await redis_server.start()  # same port, empty
            now[0] += 1.0  # the retry interval has passed (two seconds in all: one minute not)
            await cache.set("k", f"v{outage}")
            assert manager.store_available
            assert logger.messages("info") == ["Cache store 'redis' is reachable again"] * outage
            assert await cache.get("k") == f"v{outage}"
        assert (manager.metrics.outages, manager.metrics.recoveries) == (2, 2)
        assert [entry.level for entry in logger.entries] == ["warn", "info", "warn", "info"]
    finally:
        await manager.close()


async def test_connections_are_closed_when_the_backend_stops(redis_server: RedisServer) -> None:
    handlers: dict[str, Any] = {}
    async with start_test_backend(
        features=[cache_service_factory(), profile_plugin(handlers)],
        config=redis_config(redis_server),
    ) as test:
        await client_for(test)("ada")
        assert await redis_server.connected_clients() >= 1

    async def all_closed() -> bool:
        return await redis_server.connected_clients() == 0

    await eventually(all_closed, what="the backend's Redis connections to close")


async def test_an_idle_pool_survives_a_redis_restart_silently(redis_server: RedisServer) -> None:
    logger = MockRootLogger()
    config = create_config_from_data(redis_config(redis_server))
    manager = CacheManager.from_config(config, logger)
    try:
        cache = manager.for_plugin("profiles")
        await cache.set("k", "v")  # opens a pooled connection
        await redis_server.stop()
        await redis_server.start()
        # The pooled connection is dead; the one immediate retry reconnects.
        await cache.set("k", "again")
        assert await cache.get("k") == "again"
        assert manager.metrics.store_errors == 0
        assert logger.messages("warn") == []
    finally:
        await manager.close()


async def test_cache_works_from_plugin_shutdown_hooks(redis_server: RedisServer) -> None:
    seen: list[Any] = []

    def init(cache: PluginCache, lifecycle: Any) -> None:
        async def on_shutdown() -> None:
            await cache.set("last", "words")
            seen.append(await cache.get("last"))
            seen.append(cache.metrics.store_errors)

        lifecycle.add_shutdown_hook(on_shutdown)

    plugin = plugin_with_init(
        "profiles", {"cache": core_services.cache, "lifecycle": core_services.lifecycle}, init
    )
    async with start_test_backend(
        features=[cache_service_factory(), plugin], config=redis_config(redis_server)
    ):
        pass
    assert seen == ["words", 0]
    with anyio.fail_after(5):
        async with Redis.from_url(redis_server.url) as probe:
            assert await probe.dbsize() == 1
