"""HTTP ingress for webhooks (Node's ``HttpPostIngressEventPublisher``): ``POST /http/<topic>``
publishes the request body to ``topic`` through the events service."""

from __future__ import annotations

import inspect
from collections.abc import Mapping

from quart import Blueprint, Response, jsonify, request

from backstage_runtime import Config, EventsService, LoggerService

from ._body_parsers import DEFAULT_BODY_PARSERS
from ._errors import UnsupportedMediaTypeError
from ._extension_point import (
    HttpBodyParser,
    HttpBodyParseResult,
    RequestDetails,
    RequestValidationContext,
    RequestValidator,
)

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


async def _read(
    parsers: Mapping[str, HttpBodyParser], topic: str
) -> tuple[HttpBodyParseResult, bytes]:
    """The body read by the parser of its content type (415 when there is none) and its raw
    bytes."""
    mimetype = (request.mimetype or "").lower()
    parser = parsers.get(mimetype)
    if parser is None:
        raise UnsupportedMediaTypeError(mimetype or None)
    data = await request.get_data(as_text=False)
    raw = data if isinstance(data, bytes) else data.encode()
    result = parser(raw, dict(request.mimetype_params), topic)
    if inspect.isawaitable(result):
        result = await result
    return result, raw


def create_ingress_routes(
    *,
    topics: Mapping[str, RequestValidator | None],
    events: EventsService,
    logger: LoggerService,
    body_parsers: Mapping[str, HttpBodyParser] | None = None,
) -> Blueprint:
    """One ``POST /http/<topic>`` route per topic (a topic without a route is a 404); bodies
    are read by ``body_parsers`` (by lower-case content type) over the default JSON one."""
    routes = Blueprint("events_http_ingress", __name__)
    parsers = {**DEFAULT_BODY_PARSERS, **{k.lower(): v for k, v in (body_parsers or {}).items()}}

    def add_route(index: int, topic: str, validator: RequestValidator | None) -> None:
        async def ingest() -> Response:
            parsed, raw = await _read(parsers, topic)
            body, encoding = parsed.body, parsed.encoding
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
