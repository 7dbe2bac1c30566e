"""HTTP ingress for webhooks (Node's ``HttpPostIngressEventPublisher``): ``POST /http/<topic>``
publishes the request body to ``topic`` through the events service."""

from __future__ import annotations

import codecs
import inspect
import json
from collections.abc import Mapping
from typing import Any

from quart import Blueprint, Response, jsonify, request

from backstage_runtime import Config, EventsService, LoggerService

from ._errors import JsonSyntaxError, UnsupportedCharsetError, UnsupportedMediaTypeError
from ._extension_point import RequestDetails, RequestValidationContext, RequestValidator

__all__ = ["HTTP_TOPICS_KEY", "create_ingress_routes", "ingress_topics"]

#: The config key listing the topics that get an ingress endpoint without a module.
HTTP_TOPICS_KEY = "events.http.topics"


def ingress_topics(
    config: Config, added: Mapping[str, RequestValidator | None]
) -> dict[str, RequestValidator | None]:
    """Every ingress topic: those modules ``added`` (with their validators) and those of
    ``events.http.topics`` (a topic in both keeps the module's validator)."""
    topics = dict(added)
    for topic in config.get_optional_string_array(HTTP_TOPICS_KEY) or []:
        topics.setdefault(topic, None)
    return topics


async def _read() -> tuple[Any, bytes, str]:
    """The body by its content type (only JSON has a parser, as in Node by default): parsed,
    raw bytes and encoding. 415 for other types and unknown charsets, 400 for broken JSON."""
    mimetype = request.mimetype or None
    if mimetype != "application/json":
        raise UnsupportedMediaTypeError(mimetype)
    encoding = request.mimetype_params.get("charset", "utf-8")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UnsupportedCharsetError(encoding) from None
    data = await request.get_data(as_text=False)
    raw = data if isinstance(data, bytes) else data.encode()
    try:
        parsed = json.loads(raw.decode(encoding))
    except (ValueError, UnicodeDecodeError) as error:
        raise JsonSyntaxError(f"Unexpected JSON in request body: {error}") from None
    return parsed, raw, encoding


def create_ingress_routes(
    *,
    topics: Mapping[str, RequestValidator | None],
    events: EventsService,
    logger: LoggerService,
) -> Blueprint:
    """One ``POST /http/<topic>`` route per topic; a topic without a route is a 404."""
    routes = Blueprint("events_http_ingress", __name__)

    def add_route(index: int, topic: str, validator: RequestValidator | None) -> None:
        async def ingest() -> Response:
            body, raw, encoding = await _read()
            headers = {name.lower(): value for name, value in request.headers.items()}
            if validator is not None:
                context = RequestValidationContext()
                result = validator(
                    RequestDetails(body=body, headers=headers, raw_body=raw, encoding=encoding),
                    context,
                )
                if inspect.isawaitable(result):
                    await result
                rejection = context.rejection
                if rejection is not None:
                    refused = jsonify(rejection.payload)
                    refused.status_code = rejection.status
                    return refused
            await events.publish(topic=topic, event_payload=body, metadata=headers)
            accepted = jsonify({"status": "accepted"})
            accepted.status_code = 202
            return accepted

        routes.add_url_rule(
            # Endpoint names may not hold dots, topics often do ("github.push").
            f"/http/{topic}",
            endpoint=f"ingest_{index}",
            view_func=ingest,
            methods=["POST"],
        )
        logger.info(f"Registered /api/events/http/{topic} to receive events")

    for index, (topic, validator) in enumerate(topics.items()):
        add_route(index, topic, validator)
    return routes
