"""The contrib todo plugin as the example of actions and events: it registers two actions,
publishes every new item and adds items other plugins request over the events service.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from backstage_plugin_todo_backend import ITEM_CREATED_TOPIC, ITEM_REQUESTED_TOPIC, todo_plugin

from backstage_runtime import EventParams
from backstage_runtime.testing import mock_credentials, mock_services, start_test_backend

pytestmark = pytest.mark.anyio

SERVICE = mock_credentials.service.headers("plugin:catalog")


async def _json(response: aiohttp.ClientResponse) -> Any:
    return await response.json()


async def test_the_actions_are_listed_with_their_schemas_and_attributes() -> None:
    async with (
        start_test_backend(features=[todo_plugin]) as test,
        aiohttp.ClientSession() as session,
        session.get(
            await test.url("/api/todo/.backstage/actions/v1/actions"), headers=SERVICE
        ) as response,
    ):
        assert response.status == 200
        actions = {action["id"]: action for action in (await _json(response))["actions"]}
    assert set(actions) == {"todo:create-item", "todo:list-items"}
    assert actions["todo:list-items"]["attributes"] == {
        "destructive": False,
        "idempotent": True,
        "readOnly": True,
    }
    assert actions["todo:create-item"]["schema"]["input"]["required"] == ["title"]


async def test_invoking_create_item_adds_it_and_publishes_it() -> None:
    events = mock_services.events()
    async with start_test_backend(features=[todo_plugin, events.factory()]) as test:
        invoke = await test.url("/api/todo/.backstage/actions/v1/actions/todo:create-item/invoke")
        async with (
            aiohttp.ClientSession() as session,
            session.post(invoke, json={"title": "Write docs"}, headers=SERVICE) as created,
            session.post(invoke, json={"title": ""}, headers=SERVICE) as invalid,
            session.get(await test.url("/api/todo/items")) as listed,
        ):
            output = await _json(created)
            error = await _json(invalid)
            items = (await _json(listed))["items"]
    assert created.status == 200
    assert output == {"output": {"id": 0, "title": "Write docs", "source": "actions"}}
    assert invalid.status == 400
    assert error["error"]["name"] == "InputError"
    assert "title" in error["error"]["message"]
    assert items == [{"id": 0, "title": "Write docs", "source": "actions"}]
    assert events.published == [
        EventParams(topic=ITEM_CREATED_TOPIC, event_payload=output["output"])
    ]


async def test_a_requested_item_arrives_through_the_events_service() -> None:
    events = mock_services.events()
    async with start_test_backend(features=[todo_plugin, events.factory()]) as test:
        await events.publish(topic=ITEM_REQUESTED_TOPIC, event_payload={"title": "From events"})
        await events.publish(topic=ITEM_REQUESTED_TOPIC, event_payload={"no": "title"})
        async with (
            aiohttp.ClientSession() as session,
            session.get(await test.url("/api/todo/items")) as listed,
        ):
            items = (await _json(listed))["items"]
        warnings = [entry for entry in test.logger.entries if entry.level == "warn"]
    assert items == [{"id": 0, "title": "From events", "source": "events"}]
    assert [event.topic for event in events.published] == [
        ITEM_REQUESTED_TOPIC,
        ITEM_CREATED_TOPIC,
        ITEM_REQUESTED_TOPIC,
    ]
    assert events.published[1].event_payload == items[0]
    assert [entry.message for entry in warnings] == ["Ignored a TODO request without a title"]
