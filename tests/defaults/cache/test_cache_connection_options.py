"""The object form of ``backend.cache.connection``: node-redis options reach the Redis client.

Backstage passes the object to node-redis's ``createClient`` as is (``CacheManager``); every
option with a redis-py counterpart is passed on, the others are named in one warning.
"""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio import Redis

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.defaults.cache import CacheManager, CacheSettings, read_cache_settings
from backstage_runtime.defaults.root_config import create_config_from_data
from backstage_runtime.testing import MockRootLogger

from ._redis_server import RedisServer


def read(connection: Any, logger: MockRootLogger | None = None, **cache: Any) -> CacheSettings:
    data = {
        "backend": {"cache": {"store": "redis", "connection": connection, "redis": {}, **cache}}
    }
    return read_cache_settings(create_config_from_data(data), logger or MockRootLogger())


def test_options_with_a_redis_py_counterpart_are_kept() -> None:
    logger = MockRootLogger()
    settings = read(
        {
            "url": "redis://h:1",
            "database": 3,
            "username": "u",
            "password": "p",
            "name": "backstage",
            "pingInterval": 60000,
            "socket": {"connectTimeout": 2000, "socketTimeout": 3000, "keepAlive": False},
        },
        logger,
    )
    assert settings.redis is not None
    assert dict(settings.redis.client_options) == {
        "db": 3,
        "username": "u",
        "password": "p",
        "client_name": "backstage",
        "health_check_interval": 60.0,
    }
    assert (settings.redis.connect_timeout, settings.redis.socket_timeout) == (2.0, 3.0)
    assert settings.redis.keep_alive is False
    assert logger.messages("warn") == []


def test_socket_tls_makes_the_connection_tls() -> None:
    settings = read({"url": "redis://h:1", "socket": {"tls": True}})
    assert settings.redis is not None
    assert settings.redis.url == "rediss://h:1"


def test_options_without_a_counterpart_are_warned_about_not_refused() -> None:
    logger = MockRootLogger()
    settings = read(
        {
            "url": "redis://h:1",
            "readonly": True,
            "disableOfflineQueue": True,
            "socket": {"noDelay": 1},
        },
        logger,
    )
    assert settings.redis is not None
    assert settings.redis.client_options == {}
    assert logger.messages("warn") == [
        "Redis connection options at 'backend.cache.connection' have no counterpart in "
        "backstage-runtime's Redis client and are ignored: readonly, disableOfflineQueue, "
        "socket.noDelay"
    ]


def test_the_connection_object_wins_over_the_client_socket_extension() -> None:
    settings = read(
        {"url": "redis://h:1", "socket": {"connectTimeout": 1000}},
        redis={"client": {"socket": {"connectTimeout": 9000, "socketTimeout": 8000}}},
    )
    assert settings.redis is not None
    assert (settings.redis.connect_timeout, settings.redis.socket_timeout) == (1.0, 8.0)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("database", -1, "backend.cache.connection.database', expected a non-negative number"),
        ("database", 1.5, "backend.cache.connection.database', expected a database number"),
        ("pingInterval", "soon", "backend.cache.connection.pingInterval' in 'mock-config' to a"),
        ("name", 5, "backend.cache.connection.name' in 'mock-config', got number, wanted string"),
    ],
)
def test_bad_option_values_name_the_key(option: str, value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        read({"url": "redis://h:1", option: value})
    assert message in str(caught.value)


@pytest.mark.anyio
async def test_the_database_number_and_client_name_reach_redis(redis_server: RedisServer) -> None:
    config = create_config_from_data(
        {
            "backend": {
                "cache": {
                    "store": "redis",
                    "connection": {"url": redis_server.url, "database": 5, "name": "bs-cache"},
                    "redis": {},
                }
            }
        }
    )
    manager = CacheManager.from_config(config, MockRootLogger())
    try:
        cache = manager.for_plugin("catalog")
        await cache.set("k", "v")
        direct = Redis.from_url(f"{redis_server.url}/5")
        try:
            keys = await direct.keys("*")
            clients = await direct.client_list()
        finally:
            await direct.aclose()
    finally:
        await manager.close()
    assert keys == [cache.stored_key("k").encode()]
    assert "bs-cache" in [client["name"] for client in clients]
