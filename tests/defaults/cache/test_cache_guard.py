"""Store failures: misses and dropped writes, rate-limited warnings, counters, retries."""

from __future__ import annotations

from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from backstage_runtime.defaults.cache import CacheManager, CacheSettings
from backstage_runtime.defaults.cache._codec import CacheEntry
from backstage_runtime.defaults.cache._store import CacheStore
from backstage_runtime.testing import MockRootLogger

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FlakyStore(CacheStore):
    """A memory-like store that fails with ``error`` while ``failing`` is set."""

    errors = (RedisConnectionError, ResponseError)

    def __init__(self) -> None:
        super().__init__("redis", backend=None)
        self.data: dict[str, str] = {}
        self.failing: BaseException | None = None
        self.calls = 0

    def _check(self) -> None:
        self.calls += 1
        if self.failing is not None:
            raise self.failing

    async def get(self, key: str) -> CacheEntry | None:
        self._check()
        from backstage_runtime.defaults.cache._codec import decode_entry

        return decode_entry(self.data.get(key))

    async def set(self, key: str, text: str, ttl_ms: int | None) -> None:
        self._check()
        self.data[key] = text

    async def delete(self, key: str) -> None:
        self._check()
        self.data.pop(key, None)

    def is_outage(self, error: BaseException) -> bool:
        return isinstance(error, RedisConnectionError)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def logger() -> MockRootLogger:
    return MockRootLogger()


@pytest.fixture
def store() -> FlakyStore:
    return FlakyStore()


@pytest.fixture
def manager(
    store: FlakyStore, logger: MockRootLogger, clock: Clock, monkeypatch: Any
) -> CacheManager:
    monkeypatch.setattr(
        "backstage_runtime.defaults.cache._manager.create_store", lambda settings: store
    )
    return CacheManager(
        CacheSettings(store="redis", store_name="redis"),
        logger,
        retry_interval=1.0,
        warning_interval=60.0,
        clock=clock,
    )


def warnings_of(logger: MockRootLogger) -> list[str]:
    return logger.messages("warn")


async def test_an_outage_turns_reads_into_misses_and_drops_writes(
    manager: CacheManager, store: FlakyStore, logger: MockRootLogger, clock: Clock
) -> None:
    cache = manager.for_plugin("catalog")
    await cache.set("a", 1)
    store.failing = RedisConnectionError("Error 111 connecting to 127.0.0.1:6391.")

    assert await cache.get("a") is None
    assert not manager.store_available
    # Within the retry interval nothing reaches the store.
    calls = store.calls
    for _ in range(5):
        assert await cache.get("a") is None
        await cache.set("b", 2)
        await cache.delete("a")
    assert store.calls == calls
    assert manager.metrics.snapshot() == {
        "storeErrors": 1,
        "skippedOperations": 15,
        "outages": 1,
        "recoveries": 0,
    }
    assert warnings_of(logger) == [
        "Cache store 'redis' is unreachable; cache reads act as misses and writes are dropped "
        "until it is back"
    ]
    entry = logger.entries[-1]
    assert entry.fields["operation"] == "get"
    assert "Error 111" in entry.fields["error"]

    # After the interval one operation probes the store again; it still fails, quietly.
    clock.now += 1.0
    await cache.set("b", 2)
    assert store.calls == calls + 1
    assert manager.metrics.store_errors == 2
    assert len(warnings_of(logger)) == 1

    # The store is back: the next probe succeeds and everything works again.
    store.failing = None
    assert await cache.get("a") is None  # still skipped: the interval has not passed
    clock.now += 1.0
    assert await cache.get("a") == 1
    assert manager.store_available
    assert manager.metrics.recoveries == 1
    assert logger.messages("info") == ["Cache store 'redis' is reachable again"]
    assert logger.entries[-1].fields["failedOperations"] == 2
    await cache.set("b", 3)
    assert await cache.get("b") == 3
    assert "b" not in store.data  # keys are namespaced ...
    assert store.data[cache.stored_key("b")] == '{"value":3}'  # ... and the write went through


async def test_every_outage_and_every_recovery_is_announced(
    manager: CacheManager, store: FlakyStore, logger: MockRootLogger, clock: Clock
) -> None:
    cache = manager.for_plugin("catalog")
    down = RedisConnectionError("down")
    for _ in range(10):  # flapping every two seconds for 20 s
        store.failing = down
        await cache.get("k")
        clock.now += 1
        store.failing = None
        await cache.get("k")
        clock.now += 1
    assert manager.metrics.outages == 10
    assert manager.metrics.recoveries == 10
    # Each outage, however soon after the last one, is told apart from it ...
    unreachable = (
        "Cache store 'redis' is unreachable; cache reads act as misses and writes are dropped "
        "until it is back"
    )
    assert warnings_of(logger) == [unreachable] * 10
    # ... and so is each recovery, in the order they happened.
    assert logger.messages("info") == ["Cache store 'redis' is reachable again"] * 10
    levels = [entry.level for entry in logger.entries]
    assert levels == ["warn", "info"] * 10


async def test_warnings_while_the_store_stays_down_are_rate_limited(
    manager: CacheManager, store: FlakyStore, logger: MockRootLogger, clock: Clock
) -> None:
    cache = manager.for_plugin("catalog")
    store.failing = RedisConnectionError("down")
    await cache.get("k")
    # Down for another minute: one "still" warning, however many probes failed meanwhile.
    for _ in range(61):
        clock.now += 1
        await cache.get("k")
    assert warnings_of(logger) == [
        "Cache store 'redis' is unreachable; cache reads act as misses and writes are dropped "
        "until it is back",
        "Cache store 'redis' is still unreachable",
    ]
    assert logger.entries[-1].fields["failedSinceLastWarning"] == 59
    assert manager.metrics.store_errors == 62

    store.failing = None
    clock.now += 1
    await cache.get("k")
    assert logger.messages("info") == ["Cache store 'redis' is reachable again"]
    assert logger.entries[-1].fields["failedOperations"] == 62


async def test_failing_operations_on_a_reachable_store_are_rate_limited(
    manager: CacheManager, store: FlakyStore, logger: MockRootLogger, clock: Clock
) -> None:
    cache = manager.for_plugin("catalog")
    store.failing = ResponseError("WRONGTYPE")
    for _ in range(30):
        await cache.get("k")
        clock.now += 1
    assert warnings_of(logger) == ["Cache operation 'get' failed on store 'redis'"]

    # An outage in the middle of that is still announced at once.
    store.failing = RedisConnectionError("down")
    await cache.get("k")
    assert warnings_of(logger)[-1].startswith("Cache store 'redis' is unreachable")
    assert logger.entries[-1].fields["failedSinceLastWarning"] == 29


async def test_a_command_error_is_not_an_outage(
    manager: CacheManager, store: FlakyStore, logger: MockRootLogger
) -> None:
    cache = manager.for_plugin("catalog")
    store.failing = ResponseError("WRONGTYPE Operation against a key holding the wrong kind")
    assert await cache.get("k") is None
    assert manager.store_available  # other operations are not skipped
    store.failing = None
    await cache.set("k", "v")
    assert await cache.get("k") == "v"
    assert manager.metrics.store_errors == 1
    assert manager.metrics.outages == 0
    assert warnings_of(logger) == ["Cache operation 'get' failed on store 'redis'"]


async def test_programming_errors_are_raised_even_while_the_store_is_down(
    manager: CacheManager, store: FlakyStore
) -> None:
    cache = manager.for_plugin("catalog")
    store.failing = RedisConnectionError("down")
    await cache.get("k")
    assert not manager.store_available
    with pytest.raises(TypeError):
        await cache.set("k", {1, 2})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await cache.get(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative"):
        await cache.set("k", 1, ttl=-5)


async def test_errors_that_are_not_store_errors_propagate(
    manager: CacheManager, store: FlakyStore
) -> None:
    store.failing = KeyError("a bug, not an outage")
    with pytest.raises(KeyError):
        await manager.for_plugin("catalog").get("k")
    assert manager.metrics.store_errors == 0
