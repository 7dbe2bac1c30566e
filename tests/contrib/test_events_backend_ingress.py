"""HTTP ingress of the events plugin: ``POST /api/events/http/<topic>`` for the topics of
``events.http.topics`` and those modules add through ``events_extension_point``, published to
the events service; validators that reject; unknown topics; bodies that are not JSON."""

from __future__ import annotations

from typing import Any

import pytest
from _support.http import request
from backstage_plugin_events_backend import (
    EventsExtensionPoint,
    HttpBodyParseResult,
    RequestDetails,
    RequestValidationContext,
    events_extension_point,
    events_plugin,
)

from backstage_runtime import EventParams, EventsService, create_backend_module, events_service_ref
from backstage_runtime.api import create_backend_plugin
from backstage_runtime.testing import start_test_backend

pytestmark = pytest.mark.anyio


def subscriber(received: list[EventParams], topics: list[str]) -> Any:
    def register(env: Any) -> None:
        async def init(events: EventsService) -> None:
            await events.subscribe(id="hooks", topics=topics, on_event=received.append)

        env.register_init(deps={"events": events_service_ref}, init=init)

    return create_backend_plugin(plugin_id="hooks", register=register)


def ingress_module(topic: str, validator: Any) -> Any:
    def register(env: Any) -> None:
        def init(events: EventsExtensionPoint) -> None:
            events.add_http_post_ingress(topic, validator)

        env.register_init(deps={"events": events_extension_point}, init=init)

    return create_backend_module(
        plugin_id="events", module_id=f"ingress-{topic}", register=register
    )


async def test_a_configured_topic_accepts_json_and_publishes_it_with_the_headers_as_metadata() -> (
    None
):
    received: list[EventParams] = []
    config = {"events": {"http": {"topics": ["github.push"]}}}
    features = [events_plugin, subscriber(received, ["github.push"])]
    async with start_test_backend(features=features, config=config) as test:
        # Webhooks carry no Backstage credentials: the ingress is open.
        reply = await request(
            "POST",
            await test.url("/api/events/http/github.push"),
            json={"action": "opened"},
            headers={"X-GitHub-Event": "pull_request", "Authorization": ""},
        )
    assert (reply.status, reply.json()) == (202, {"status": "accepted"})
    assert [(e.topic, e.event_payload) for e in received] == [("github.push", {"action": "opened"})]
    assert received[0].metadata is not None
    assert received[0].metadata["x-github-event"] == "pull_request"


async def test_a_topic_without_an_ingress_is_404() -> None:
    config = {"events": {"http": {"topics": ["github"]}}}
    async with start_test_backend(features=[events_plugin], config=config) as test:
        reply = await request("POST", await test.url("/api/events/http/gitlab"), json={})
    assert reply.status == 404
    assert reply.json()["error"]["name"] == "NotFoundError"


async def test_a_module_adds_an_ingress_whose_validator_sees_the_raw_body_and_may_reject() -> None:
    received: list[EventParams] = []
    seen: list[RequestDetails] = []

    async def check_signature(details: RequestDetails, context: RequestValidationContext) -> None:
        seen.append(details)
        if details.headers.get("x-signature") != "good":
            context.reject(status=401, payload={"message": "bad signature"})

    features = [
        events_plugin,
        ingress_module("signed", check_signature),
        subscriber(received, ["signed"]),
    ]
    async with start_test_backend(features=features) as test:
        url = await test.url("/api/events/http/signed")
        body = b'{"n": 1}'
        headers = {"Content-Type": "application/json"}
        refused = await request("POST", url, data=body, headers={**headers, "X-Signature": "bad"})
        accepted = await request("POST", url, data=body, headers={**headers, "X-Signature": "good"})
    assert (refused.status, refused.json()) == (401, {"message": "bad signature"})
    assert (accepted.status, accepted.json()) == (202, {"status": "accepted"})
    assert [e.event_payload for e in received] == [{"n": 1}]
    assert seen[0].raw_body == body
    assert (seen[0].body, seen[0].encoding) == ({"n": 1}, "utf-8")


async def test_a_rejection_without_details_is_403_with_an_empty_object() -> None:
    def refuse(details: RequestDetails, context: RequestValidationContext) -> None:
        context.reject()

    async with start_test_backend(features=[events_plugin, ingress_module("t", refuse)]) as test:
        reply = await request("POST", await test.url("/api/events/http/t"), json={})
    assert (reply.status, reply.json()) == (403, {})


async def test_bodies_that_are_not_json_are_refused_and_nothing_is_published() -> None:
    received: list[EventParams] = []
    config = {"events": {"http": {"topics": ["t"]}}}
    async with start_test_backend(
        features=[events_plugin, subscriber(received, ["t"])], config=config
    ) as test:
        url = await test.url("/api/events/http/t")
        text_body = await request("POST", url, data=b"hi", headers={"Content-Type": "text/plain"})
        malformed = await request(
            "POST", url, data=b"{nope", headers={"Content-Type": "application/json"}
        )
        charset = await request(
            "POST", url, data=b"{}", headers={"Content-Type": "application/json; charset=nope"}
        )
    assert text_body.status == 415
    assert text_body.json()["error"] == {
        "name": "UnsupportedMediaTypeError",
        "message": "Unsupported media type: text/plain. You need to provide a custom body parser "
        "for this media type using events extension.",
    }
    assert (malformed.status, malformed.json()["error"]["name"]) == (400, "SyntaxError")
    assert charset.json()["error"] == {
        "name": "UnsupportedCharsetError",
        "message": "Unsupported charset: nope",
    }
    assert received == []


async def test_ingress_bodies_follow_the_plugins_body_limit() -> None:
    big = {"blob": "x" * 300_000}
    config: dict[str, Any] = {"events": {"http": {"topics": ["t"]}}}
    async with start_test_backend(features=[events_plugin], config=config) as test:
        refused = await request("POST", await test.url("/api/events/http/t"), json=big)
    raised = {**config, "backend": {"bodyLimit": {"plugin": {"events": {"json": "5mb"}}}}}
    async with start_test_backend(features=[events_plugin], config=raised) as test:
        accepted = await request("POST", await test.url("/api/events/http/t"), json=big)
    assert (refused.status, refused.json()["error"]["name"]) == (413, "PayloadTooLargeError")
    assert accepted.status == 202


async def test_a_module_adds_a_body_parser_for_another_content_type() -> None:
    from urllib.parse import parse_qs

    received: list[EventParams] = []

    def parse_form(raw: bytes, parameters: Any, topic: str) -> HttpBodyParseResult:
        return HttpBodyParseResult(body={k: v[0] for k, v in parse_qs(raw.decode()).items()})

    def register(env: Any) -> None:
        def init(events: EventsExtensionPoint) -> None:
            events.add_http_body_parser("application/x-www-form-urlencoded", parse_form)
            events.add_http_post_ingress("form")

        env.register_init(deps={"events": events_extension_point}, init=init)

    module = create_backend_module(plugin_id="events", module_id="form", register=register)
    features = [events_plugin, module, subscriber(received, ["form"])]
    async with start_test_backend(features=features) as test:
        reply = await request(
            "POST", await test.url("/api/events/http/form"), data={"payload": "a=1"}
        )
    assert reply.status == 202
    assert [e.event_payload for e in received] == [{"payload": "a=1"}]
