"""``create_mock`` and ``create_service_mock``: ``.mock()``-style doubles of a plugin's own
Protocols and service refs, where a bare ``AsyncMock(spec_set=...)`` misleads.
"""

from __future__ import annotations

import inspect
from typing import Any, Protocol
from unittest.mock import AsyncMock

import pytest

from backstage_runtime import (
    ServiceRef,
    core_services,
    create_backend_plugin,
    create_service_ref,
)
from backstage_runtime.testing import (
    ServiceMock,
    create_mock,
    create_service_mock,
    start_test_backend,
)

pytestmark = pytest.mark.anyio


class Store(Protocol):
    """A plugin's own collaborator: async methods, a sync one and a property."""

    async def get(self, *, key: str) -> str:
        """The value of ``key``."""

    async def put(self, *, key: str, value: str) -> None:
        """Store ``value``."""

    def describe(self) -> str:
        """A name for logs."""

    @property
    def size(self) -> int:
        """How many keys."""


async def test_async_methods_are_awaitable_and_return_none_as_a_bare_jest_fn() -> None:
    store = create_mock(Store)

    assert await store.get(key="a") is None
    await store.put(key="a", value="b")

    store.get.assert_awaited_once_with(key="a")
    store.put.assert_awaited_once_with(key="a", value="b")
    assert store.size is None


async def test_sync_methods_stay_sync() -> None:
    store = create_mock(Store, describe=lambda: "memory")

    assert store.describe() == "memory"
    assert not inspect.isawaitable(store.describe())


async def test_calls_are_checked_against_the_protocols_signatures() -> None:
    store = create_mock(Store)

    with pytest.raises(TypeError, match=r"missing a required argument: 'key'"):
        await store.get(kex="a")
    with pytest.raises(AttributeError, match="gte"):
        store.gte  # noqa: B018 - a misspelt method


async def test_implementations_run_and_are_still_recorded() -> None:
    async def get(*, key: str) -> str:
        return key.upper()

    store = create_mock(Store, get=get, size=3)

    assert await store.get(key="a") == "A"
    assert store.size == 3
    store.get.assert_awaited_once_with(key="a")


def test_an_implementation_of_no_member_is_refused_with_the_members() -> None:
    with pytest.raises(TypeError, match=r"has no member 'gte'; its members are: describe, get"):
        create_mock(Store, gte=lambda **_: "x")


async def test_a_bare_async_mock_with_a_list_spec_has_non_async_children() -> None:
    # The pitfall the README warns about: with names only, AsyncMock cannot know which
    # methods are async and makes them all MagicMocks, so awaiting one fails.
    bare = AsyncMock(spec_set=["get", "put"])

    with pytest.raises(TypeError, match="can't be used in 'await' expression"):
        await bare.get(key="a")
    # ... and with the Protocol as spec it accepts any arguments and answers truthy mocks.
    loose: Any = AsyncMock(spec_set=Store)
    assert await loose.get(kex="typo")


async def test_create_service_mock_serves_the_double_to_a_backend() -> None:
    store_ref: ServiceRef[Store] = create_service_ref(id="test.store")
    store = create_service_mock(store_ref, Store, get=lambda **_: "stored")
    seen: list[str] = []

    def register(env: Any) -> None:
        async def init(*, store: Store) -> None:
            seen.append(await store.get(key="k"))

        env.register_init(deps={"store": store_ref}, init=init)

    plugin = create_backend_plugin(plugin_id="reader", register=register)
    async with start_test_backend(features=[plugin, store.factory]):
        pass

    assert seen == ["stored"]
    store.get.assert_awaited_once_with(key="k")
    assert isinstance(store, ServiceMock)


def test_create_service_mock_names_the_service_in_errors() -> None:
    with pytest.raises(TypeError, match=r"The mock of service 'core.cache' has no member 'gte'"):
        create_service_mock(core_services.cache, Store, gte=1)
