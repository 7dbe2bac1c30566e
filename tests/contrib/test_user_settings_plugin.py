"""The user-settings plugin as a deployment runs it: its own database (every engine), the
credentials barrier, the Backstage error JSON, and its signals on the events bus.

Not in Backstage's tests (they test the router and the store apart); these check that the
pieces fit, through a real socket.
"""

from __future__ import annotations

import pytest
from backstage_plugin_user_settings_backend import SIGNALS_TOPIC, user_settings_plugin

from backstage_runtime import EventParams
from backstage_runtime.testing import (
    TestDatabaseId,
    TestDatabases,
    mock_credentials,
    mock_services,
    start_test_backend,
)

pytestmark = pytest.mark.anyio

ADA = mock_credentials.user.headers("user:default/ada")
API = "/api/user-settings"
KEY = f"{API}/buckets/default/keys/starredEntities"


@pytest.mark.parametrize("database_id", TestDatabases.each_supported_id())
async def test_a_setting_is_stored_read_and_deleted_per_user(
    database_id: TestDatabaseId, test_databases: TestDatabases
) -> None:
    config = {"backend": {"database": await test_databases.backend_config(database_id)}}
    value = {"entities": ["component:default/ünïcode", 1, None, True], "nested": {"a": 1.5}}
    async with start_test_backend(features=[user_settings_plugin], config=config) as test:
        put = await test.request("PUT", KEY, json={"value": value}, headers=ADA)
        got = await test.request("GET", KEY, headers=ADA)
        other_user = await test.request("GET", KEY)  # the default mock user has none
        deleted = await test.request("DELETE", KEY, headers=ADA)
        gone = await test.request("GET", KEY, headers=ADA)
        deleted_again = await test.request("DELETE", KEY, headers=ADA)

    setting = {"bucket": "default", "key": "starredEntities", "value": value}
    assert (put.status, put.json()) == (200, setting)
    assert (got.status, got.json()) == (200, setting)
    assert other_user.status == 404
    assert other_user.json()["error"] == {
        "name": "NotFoundError",
        "message": "Unable to find 'starredEntities' in bucket 'default'",
    }
    assert (deleted.status, deleted.body, "Content-Length" in deleted.headers) == (204, b"", False)
    assert gone.status == 404
    assert deleted_again.status == 204


async def test_changes_are_signalled_to_the_user_on_the_signals_topic() -> None:
    events = mock_services.events()
    async with start_test_backend(features=[user_settings_plugin, events.factory()]) as test:
        await test.request("PUT", KEY, json={"value": "a"}, headers=ADA)
        await test.request("DELETE", KEY, headers=ADA)

    recipients = {"type": "user", "entityRef": "user:default/ada"}
    assert events.published == [
        EventParams(
            topic=SIGNALS_TOPIC,
            event_payload={
                "recipients": recipients,
                "channel": "user-settings",
                "message": {"type": "key-changed", "key": "starredEntities"},
            },
        ),
        EventParams(
            topic=SIGNALS_TOPIC,
            event_payload={
                "recipients": recipients,
                "channel": "user-settings",
                "message": {"type": "key-deleted", "key": "starredEntities"},
            },
        ),
    ]


async def test_only_users_are_served() -> None:
    async with start_test_backend(features=[user_settings_plugin]) as test:
        service = await test.request(
            "GET", KEY, headers=mock_credentials.service.headers("plugin:catalog")
        )
        anonymous = await test.request(
            "PUT", KEY, json={"value": 1}, headers=mock_credentials.none.headers()
        )
        invalid = await test.request(
            "GET", KEY, headers={"Authorization": mock_credentials.user.invalid_header()}
        )

    assert (service.status, service.json()["error"]["name"]) == (403, "NotAllowedError")
    assert (anonymous.status, anonymous.json()["error"]["name"]) == (401, "AuthenticationError")
    assert invalid.status == 401


async def test_null_is_a_value_but_a_missing_value_or_a_broken_body_is_a_400() -> None:
    async with start_test_backend(features=[user_settings_plugin]) as test:
        null = await test.request("PUT", KEY, json={"value": None})
        read_back = await test.request("GET", KEY)
        missing = await test.request("PUT", KEY, json={"other": 1})
        not_an_object = await test.request("PUT", KEY, json=["value"])
        broken = await test.request(
            "PUT", KEY, data=b'{"value":', headers={"Content-Type": "application/json"}
        )
        no_body = await test.request("PUT", KEY)

    assert (null.status, null.json()) == (
        200,
        {"bucket": "default", "key": "starredEntities", "value": None},
    )
    assert read_back.json()["value"] is None
    for reply in (missing, not_an_object, no_body):
        assert reply.status == 400
        assert reply.json()["error"] == {
            "name": "InputError",
            "message": 'Missing required field "value"',
        }
    assert (broken.status, broken.json()["error"]["name"]) == (400, "InputError")


async def test_bucket_and_key_are_url_decoded() -> None:
    async with start_test_backend(features=[user_settings_plugin]) as test:
        put = await test.request(
            "PUT", f"{API}/buckets/my%20bucket/keys/k%C3%A9y", json={"value": 1}
        )
        got = await test.request("GET", f"{API}/buckets/my bucket/keys/kéy")

    assert put.json() == {"bucket": "my bucket", "key": "kéy", "value": 1}
    assert (got.status, got.json()) == (200, put.json())
