"""``backend.cache`` parsing: Backstage's keys, defaults, warnings and errors naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.defaults.cache import CacheSettings, read_cache_settings
from backstage_runtime.defaults.cache._config import DEFAULT_TIMEOUT_MS
from backstage_runtime.defaults.root_config import create_config_from_data
from backstage_runtime.testing import MockRootLogger


def read(cache: dict[str, Any] | None, logger: MockRootLogger | None = None) -> CacheSettings:
    data = {} if cache is None else {"backend": {"cache": cache}}
    return read_cache_settings(create_config_from_data(data), logger or MockRootLogger())


def test_defaults_to_memory_without_expiry() -> None:
    logger = MockRootLogger()
    settings = read(None, logger)
    assert (settings.store, settings.default_ttl_ms, settings.redis) == ("memory", None, None)
    assert settings.plugin_prefix("catalog") == "catalog:"
    assert logger.entries == []


@pytest.mark.parametrize(
    ("value", "milliseconds"),
    [
        (5000, 5000),
        (0.5, 1),  # rounded up: a tiny TTL must not become "no expiry"
        (0, None),  # Keyv: 0 is no expiry
        ("2m", 120_000),
        ("PT1.5S", 1500),
        ({"minutes": 1, "seconds": 30}, 90_000),
    ],
)
def test_default_ttl_accepts_milliseconds_and_durations(
    value: Any, milliseconds: int | None
) -> None:
    assert read({"defaultTtl": value}).default_ttl_ms == milliseconds


@pytest.mark.parametrize("value", ["30", "soon", -5, {"fortnights": 2}, True, [1]])
def test_bad_default_ttl_names_the_key(value: Any) -> None:
    with pytest.raises(ConfigError, match=r"backend\.cache\.defaultTtl"):
        read({"defaultTtl": value})


def test_unknown_store_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"Unknown cache store: mongo .*'backend\.cache\.store'"):
        read({"store": "mongo"})
    with pytest.raises(
        ConfigError, match=r"'infinispan' at 'backend\.cache\.store' is not supported"
    ):
        read({"store": "infinispan"})
    with pytest.raises(ConfigError, match=r"backend\.cache\.store"):
        read({"store": 7})


def test_redis_connection_and_client_options() -> None:
    logger = MockRootLogger()
    settings = read(
        {
            "store": "redis",
            "connection": "redis://user:secret@cache.example.com:6380/2",
            "redis": {
                "client": {
                    "namespace": "team",
                    "keyPrefixSeparator": "|",
                    "useUnlink": False,
                    "clearBatchSize": 500,
                    "noNamespaceAffectsAll": True,
                    "socket": {"connectTimeout": 250, "socketTimeout": 750, "keepAlive": False},
                }
            },
        },
        logger,
    )
    assert settings.store == "redis"
    assert settings.plugin_prefix("catalog") == "team|catalog|"
    assert settings.redis is not None
    assert settings.redis.url == "redis://user:secret@cache.example.com:6380/2"
    assert not settings.redis.use_unlink
    assert (settings.redis.connect_timeout, settings.redis.socket_timeout) == (0.25, 0.75)
    assert settings.redis.keep_alive is False
    assert logger.entries == []


def test_redis_defaults_match_backstage() -> None:
    logger = MockRootLogger()
    settings = read({"store": "redis", "connection": "redis://localhost:6379"}, logger)
    assert (
        settings.plugin_prefix("catalog") == "catalog:"
    )  # keyPrefixSeparator ':' and no namespace
    assert settings.redis is not None
    assert settings.redis.use_unlink
    assert settings.redis.keep_alive
    assert settings.redis.socket_timeout == DEFAULT_TIMEOUT_MS / 1000
    # Backstage warns when the store has no section of its own.
    assert logger.messages("warn") == [
        "No configuration found for cache store 'redis' at 'backend.cache.redis'."
    ]
    assert read({"store": "redis"}).redis == settings.redis.__class__(url="redis://localhost:6379")


def test_redis_connection_object_form() -> None:
    settings = read({"store": "redis", "connection": {"url": "rediss://h:1"}, "redis": {}})
    assert settings.redis is not None
    assert settings.redis.url == "rediss://h:1"
    with pytest.raises(ConfigError, match=r"backend\.cache\.connection\.url"):
        read({"store": "redis", "connection": {"url": ""}})
    with pytest.raises(
        ConfigError, match=r"'backend\.cache\.connection'.*only allowed for the redis"
    ):
        read({"store": "memcache", "connection": {"url": "h:11211"}})


@pytest.mark.parametrize(
    "url", ["http://user:hunter2@host:6379", "redis://user:hunter2@host:notaport", "hunter2"]
)
def test_invalid_redis_url_names_the_key_but_not_the_password(url: str) -> None:
    with pytest.raises(ConfigError, match=r"backend\.cache\.connection") as caught:
        read({"store": "redis", "connection": url, "redis": {}})
    assert "hunter2" not in str(caught.value)


def test_valkey_runs_on_the_redis_store_with_its_key_prefix() -> None:
    settings = read(
        {
            "store": "valkey",
            "connection": "valkey://v:6379",
            "valkey": {"client": {"keyPrefix": "bs-"}},
        }
    )
    assert (settings.store, settings.store_name) == ("redis", "valkey")
    assert settings.redis is not None
    assert settings.redis.url == "redis://v:6379"
    assert settings.plugin_prefix("catalog") == "bs-catalog:"


def test_redis_cluster_is_refused_with_the_key() -> None:
    with pytest.raises(ConfigError, match=r"backend\.cache\.redis\.cluster"):
        read({"store": "redis", "redis": {"cluster": {"rootNodes": [{"url": "redis://a"}]}}})
    logger = MockRootLogger()
    read({"store": "redis", "redis": {"cluster": {}}}, logger)
    assert any("no 'rootNodes' key" in m for m in logger.messages("warn"))


@pytest.mark.parametrize(
    ("client", "key"),
    [
        ({"namespace": 5}, "namespace"),
        ({"keyPrefixSeparator": ""}, "keyPrefixSeparator"),
        ({"clearBatchSize": 0}, "clearBatchSize"),
        ({"clearBatchSize": 1.5}, "clearBatchSize"),
        ({"useUnlink": "maybe"}, "useUnlink"),
        ({"socket": {"connectTimeout": -1}}, "socket.connectTimeout"),
        ({"socket": {"socketTimeout": "fast"}}, "socket.socketTimeout"),
        ({"socket": {"keepAlive": "sometimes"}}, "socket.keepAlive"),
    ],
)
def test_bad_redis_client_options_name_the_key(client: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=rf"backend\.cache\.redis\.client\.{key}"):
        read({"store": "redis", "redis": {"client": client}})


def test_unsupported_redis_client_options_are_reported() -> None:
    logger = MockRootLogger()
    read({"store": "redis", "redis": {"client": {"database": 2, "socket": {"tls": True}}}}, logger)
    assert logger.messages("warn") == [
        "Unsupported Redis client options at 'backend.cache.redis.client' are ignored: "
        "database, socket.tls"
    ]


def test_use_redis_sets_is_deprecated() -> None:
    logger = MockRootLogger()
    read({"useRedisSets": True}, logger)
    assert logger.messages("warn") == [
        "The 'backend.cache.useRedisSets' configuration key is deprecated and no longer has any "
        "effect."
    ]


def test_memcache_connection() -> None:
    settings = read({"store": "memcache", "connection": "mc.example.com:11311", "memcache": {}})
    assert settings.memcache is not None
    assert (settings.memcache.host, settings.memcache.port) == ("mc.example.com", 11311)
    assert settings.plugin_prefix("catalog") == "catalog:"
    for bad in ("a:1,b:2", "user:pw@h:1", "h:port"):
        with pytest.raises(ConfigError, match=r"backend\.cache\.connection"):
            read({"store": "memcache", "connection": bad})
