"""Backstage's ``router.test.ts`` of the user-settings backend, case for case.

As there, the router is tested alone: the store and the signals service are mocks (jest's
``jest.Mocked<...>`` are ``create_mock(Protocol)`` here) and the caller is
``mock_credentials``' user. Express's ``express().use(router).use(mockErrorHandler())`` +
supertest becomes ``create_router_test_plugin`` (the router in a one-plugin test backend,
behind its credentials barrier and error handler) asked over a real socket with
``TestBackend.request``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from backstage_plugin_user_settings_backend import (
    SignalsService,
    UserSetting,
    UserSettingsStore,
    create_router,
)

from backstage_runtime.testing import (
    TestBackend,
    create_mock,
    create_router_test_plugin,
    mock_credentials,
    start_test_backend,
)

pytestmark = pytest.mark.anyio

#: The caller of every request without Authorization (Backstage's ``mockCredentials.user()``).
MOCK_USER_REF = mock_credentials.user().principal.user_entity_ref


class Mocks:
    """The mocked store and signals service of one test (``jest.Mocked<...>``)."""

    def __init__(self) -> None:
        # Doubles of the protocols: awaitable, signature-checked, returning None by default.
        self.store = create_mock(UserSettingsStore)
        self.signals = create_mock(SignalsService)


@pytest.fixture
def mocks() -> Mocks:
    return Mocks()


@pytest.fixture
async def app(mocks: Mocks) -> AsyncIterator[TestBackend]:
    # The router alone, from the plugin's http_auth and the mocks (Backstage's createRouter).
    router = create_router_test_plugin(
        lambda http_auth: create_router(
            http_auth=http_auth, user_settings_store=mocks.store, signals=mocks.signals
        ),
        plugin_id="user-settings",
    )
    async with start_test_backend(features=[router]) as backend:
        yield backend


#: ``/buckets/my-bucket/keys/my-key`` under the plugin's mount point.
PATH = "/api/user-settings/buckets/my-bucket/keys/my-key"


# -- GET /buckets/:bucket/keys/:key ---------------------------------------------------------


async def test_get_returns_ok(app: TestBackend, mocks: Mocks) -> None:
    setting = UserSetting(bucket="my-bucket", key="my-key", value="a")
    mocks.store.get.return_value = setting

    reply = await app.request("GET", PATH)

    assert reply.status == 200
    assert reply.json() == {"bucket": "my-bucket", "key": "my-key", "value": "a"}
    mocks.store.get.assert_awaited_once_with(
        user_entity_ref=MOCK_USER_REF, bucket="my-bucket", key="my-key"
    )


async def test_get_returns_an_error_if_the_authorization_header_is_missing(
    app: TestBackend, mocks: Mocks
) -> None:
    reply = await app.request("GET", PATH, headers=mock_credentials.none.headers())

    assert reply.status == 401
    mocks.store.get.assert_not_called()


# -- DELETE /buckets/:bucket/keys/:key ------------------------------------------------------


async def test_delete_returns_ok(app: TestBackend, mocks: Mocks) -> None:
    mocks.store.delete.return_value = None

    reply = await app.request("DELETE", PATH)

    assert reply.status == 204
    mocks.store.delete.assert_awaited_once_with(
        user_entity_ref=MOCK_USER_REF, bucket="my-bucket", key="my-key"
    )
    mocks.signals.publish.assert_awaited_with(
        recipients={"type": "user", "entityRef": MOCK_USER_REF},
        channel="user-settings",
        message={"type": "key-deleted", "key": "my-key"},
    )


async def test_delete_returns_an_error_if_the_authorization_header_is_missing(
    app: TestBackend, mocks: Mocks
) -> None:
    reply = await app.request("DELETE", PATH, headers=mock_credentials.none.headers())

    assert reply.status == 401
    mocks.store.delete.assert_not_called()


# -- PUT /buckets/:bucket/keys/:key ---------------------------------------------------------


async def test_put_returns_ok(app: TestBackend, mocks: Mocks) -> None:
    setting = UserSetting(bucket="my-bucket", key="my-key", value="a")
    mocks.store.set.return_value = None
    mocks.store.get.return_value = setting

    reply = await app.request("PUT", PATH, json={"value": "a"})

    assert reply.status == 200
    assert reply.json() == {"bucket": "my-bucket", "key": "my-key", "value": "a"}
    mocks.store.set.assert_awaited_once_with(
        user_entity_ref=MOCK_USER_REF, bucket="my-bucket", key="my-key", value="a"
    )
    mocks.store.get.assert_awaited_once_with(
        user_entity_ref=MOCK_USER_REF, bucket="my-bucket", key="my-key"
    )
    mocks.signals.publish.assert_awaited_with(
        recipients={"type": "user", "entityRef": MOCK_USER_REF},
        channel="user-settings",
        message={"type": "key-changed", "key": "my-key"},
    )


async def test_put_returns_an_error_if_the_value_is_not_given(
    app: TestBackend, mocks: Mocks
) -> None:
    reply = await app.request("PUT", PATH, json={})

    assert reply.status == 400
    mocks.store.set.assert_not_called()


async def test_put_returns_an_error_if_the_authorization_header_is_missing(
    app: TestBackend, mocks: Mocks
) -> None:
    # Backstage's case sends a GET here (a copy of the GET case); the PUT is what it names.
    reply = await app.request(
        "PUT",
        PATH,
        json={"value": "a"},
        headers=mock_credentials.none.headers(),
    )

    assert reply.status == 401
    mocks.store.set.assert_not_called()
    mocks.store.get.assert_not_called()
