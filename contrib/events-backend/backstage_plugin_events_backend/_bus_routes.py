"""The bus API under ``/api/events/bus/v1`` (Node's ``createEventBusRouter`` and its OpenAPI
spec): publish, subscribe, and long-poll a subscription's events."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from contextlib import ExitStack
from typing import Any, Final

import anyio
from quart import Blueprint, Response, request

from backstage_runtime import (
    BackstageServicePrincipal,
    EventParams,
    HttpAuthService,
    InputError,
    LoggerService,
)

from ._errors import JsonSyntaxError
from ._store import EventBusStore, ListenerClosedError

__all__ = ["DEFAULT_NOTIFY_TIMEOUT_MS", "EVENTS_NOTIFY_TIMEOUT_HEADER", "create_bus_routes"]

#: How long a poll with nothing to read is held open: just below 60 s, a common HTTP timeout.
DEFAULT_NOTIFY_TIMEOUT_MS: Final = 55_000
#: The header of a 202 poll answer: how long (ms) it is held open.
EVENTS_NOTIFY_TIMEOUT_HEADER: Final = "backstage-events-notify-timeout"


async def _json_body() -> Any:
    """The body as ``express.json()`` gives it: parsed when it is JSON, ``{}`` otherwise."""
    if not request.is_json:
        return {}
    data = await request.get_data(as_text=False)
    raw = data if isinstance(data, bytes) else data.encode()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise JsonSyntaxError(f"Unexpected JSON in request body: {error}") from None


def _string_array(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InputError(f"{where} must be an array of strings")
    return value


def _post_event_body(body: Any) -> tuple[EventParams, list[str] | None]:
    """The event and the notified subscribers of a ``PostEvent`` body, validated as the
    OpenAPI spec says (``event: {topic: string, payload: any}``, ``notifiedSubscribers?``)."""
    if not isinstance(body, dict):
        raise InputError("request/body must be object")
    event = body.get("event")
    if event is None:
        raise InputError("request/body must have required property 'event'")
    if not isinstance(event, dict):
        raise InputError("request/body/event must be object")
    if "topic" not in event:
        raise InputError("request/body/event must have required property 'topic'")
    if not isinstance(event["topic"], str):
        raise InputError("request/body/event/topic must be string")
    if "payload" not in event:
        raise InputError("request/body/event must have required property 'payload'")
    metadata = event.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise InputError("request/body/event/metadata must be object")
    notified = body.get("notifiedSubscribers")
    if notified is not None:
        notified = _string_array(notified, "request/body/notifiedSubscribers")
    params = EventParams(topic=event["topic"], event_payload=event["payload"], metadata=metadata)
    return params, notified


def _put_subscription_topics(body: Any) -> list[str]:
    if not isinstance(body, dict):
        raise InputError("request/body must be object")
    if "topics" not in body:
        raise InputError("request/body must have required property 'topics'")
    return _string_array(body["topics"], "request/body/topics")


def create_bus_routes(
    *,
    store: EventBusStore,
    http_auth: HttpAuthService,
    logger: LoggerService,
    notify_timeout_ms: int = DEFAULT_NOTIFY_TIMEOUT_MS,
) -> Blueprint:
    """The ``/bus/v1`` routes over ``store``; every route takes service credentials only."""
    routes = Blueprint("events_bus", __name__)

    async def service_subject() -> str:
        credentials = await http_auth.credentials(request, allow=["service"])
        principal = credentials.principal
        assert isinstance(principal, BackstageServicePrincipal)
        return principal.subject

    @routes.post("/bus/v1/events")
    async def post_event() -> Response:
        event, notified = _post_event_body(await _json_body())
        subject = await service_subject()
        event_id = await store.publish(event, notified or [], f"service={subject}")
        if event_id is not None:
            logger.debug(
                f"Published event to '{event.topic}' with ID '{event_id}'", {"subject": subject}
            )
            return Response(status=201)
        if notified:
            listed = "', '".join(notified)
            logger.debug(
                f"Skipped publishing of event to '{event.topic}', subscribers have already been "
                f"notified: '{listed}'",
                {"subject": subject},
            )
        else:
            logger.debug(
                f"Skipped publishing of event to '{event.topic}', no subscribers present",
                {"subject": subject},
            )
        return Response(status=204)

    @routes.put("/bus/v1/subscriptions/<subscription_id>")
    async def put_subscription(subscription_id: str) -> Response:
        topics = _put_subscription_topics(await _json_body())
        subject = await service_subject()
        await store.upsert_subscription(subscription_id, topics, f"service={subject}")
        listed = "', '".join(topics)
        logger.debug(
            f"New subscription '{subscription_id}' for topics '{listed}'", {"subject": subject}
        )
        return Response(status=201)

    @routes.get("/bus/v1/subscriptions/<subscription_id>/events")
    async def get_subscription_events(subscription_id: str) -> Any:
        subject = await service_subject()
        # The waiter is set up before the read: an event published while reading wakes it.
        # It stays registered until the 202 ends, so the stack is closed by hand.
        registered = ExitStack()
        waiter = registered.enter_context(await store.listen(subscription_id))
        try:
            events = await store.read_subscription(subscription_id)
        except BaseException:
            registered.close()
            raise
        logger.debug(
            f"Reading subscription '{subscription_id}' resulted in {len(events)} events",
            {"subject": subject},
        )
        if events:
            registered.close()
            return {"events": [{"topic": e.topic, "payload": e.event_payload} for e in events]}

        async def held_open() -> AsyncIterator[bytes]:
            # No events in a 202, ever: a client stopping mid-response loses nothing, it
            # reads again (and only a 200 moves the cursor).
            with registered, anyio.move_on_after(notify_timeout_ms / 1000):
                try:
                    topic = await waiter.wait()
                    logger.debug(
                        f"Received notification for subscription '{subscription_id}' for "
                        f"topic '{topic}'",
                        {"subject": subject},
                    )
                except ListenerClosedError as closed:
                    logger.debug(f"Poll of subscription '{subscription_id}' ended: {closed}")
                # A small delay spreads events more evenly over the consumers of a subscription.
                await anyio.sleep((1 + random.random() * 9) / 1000)
            return
            yield b""  # an async generator that yields nothing: the 202 ends with no body

        headers = {EVENTS_NOTIFY_TIMEOUT_HEADER: str(notify_timeout_ms)}
        held = Response(held_open(), status=202, headers=headers)
        # Bounded by the notify timeout above, not by Quart's RESPONSE_TIMEOUT (60 s), which
        # would cut a longer events.notifyTimeoutMs.
        held.timeout = None
        return held

    return routes
