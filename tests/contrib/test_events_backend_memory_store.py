"""The memory store (Node's ``MemoryEventBusStore``) on its own: trimming, cursors, waiters."""

from __future__ import annotations

import anyio
import pytest
from backstage_plugin_events_backend import ListenerClosedError, MemoryEventBusStore

from backstage_runtime import EventParams, NotFoundError

pytestmark = pytest.mark.anyio


def event(n: int, topic: str = "t") -> EventParams:
    return EventParams(topic=topic, event_payload=n)


async def test_past_its_maximum_the_oldest_event_is_dropped() -> None:
    store = MemoryEventBusStore(max_events=3)
    await store.upsert_subscription("s", ["t"], "service=test")
    for n in range(5):
        assert await store.publish(event(n), [], "service=test") == str(n + 1)
    assert [e.event_payload for e in await store.read_subscription("s")] == [2, 3, 4]


async def test_a_publish_wakes_the_waiters_of_its_topic_only() -> None:
    store = MemoryEventBusStore()
    await store.upsert_subscription("a", ["t"], "service=test")
    await store.upsert_subscription("b", ["u"], "service=test")
    with await store.listen("a") as on_t, await store.listen("b") as on_u:
        await store.publish(event(1), [], "service=test")
        with anyio.fail_after(1):
            assert await on_t.wait() == "t"
        assert not on_u.woken.is_set()


async def test_closing_answers_every_waiter_and_later_ones_at_once() -> None:
    store = MemoryEventBusStore()
    await store.upsert_subscription("s", ["t"], "service=test")
    with await store.listen("s") as waiter:
        await store.close()
        with pytest.raises(ListenerClosedError, match="shutting down"):
            await waiter.wait()
    with await store.listen("s") as later, pytest.raises(ListenerClosedError):
        await later.wait()


async def test_an_unknown_subscription_is_not_found_for_reads_and_listens() -> None:
    store = MemoryEventBusStore()
    with pytest.raises(NotFoundError, match="Subscription not found"):
        await store.read_subscription("nope")
    with pytest.raises(NotFoundError):
        await store.listen("nope")
