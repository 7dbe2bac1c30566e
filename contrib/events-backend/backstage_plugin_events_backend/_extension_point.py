"""The ``events`` extension point: what modules add to the events plugin (HTTP ingresses and
the body parsers they read requests with)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from backstage_runtime import ExtensionPoint, create_extension_point

__all__ = [
    "EventsExtensionPoint",
    "HttpBodyParseResult",
    "HttpBodyParser",
    "RequestDetails",
    "RequestRejectionDetails",
    "RequestValidationContext",
    "RequestValidator",
    "events_extension_point",
]


@dataclass(frozen=True)
class RequestDetails:
    """An ingress request as a validator sees it (Backstage's ``RequestDetails``): the parsed
    ``body``, the ``headers`` (lower-case names) and the ``raw_body`` bytes with their
    ``encoding``, for signature checks over the exact bytes sent.
    """

    body: Any
    headers: Mapping[str, str]
    raw_body: bytes = field(repr=False)
    encoding: str = "utf-8"


@dataclass(frozen=True)
class HttpBodyParseResult:
    """What a body parser makes of a request body: the ``body`` published as the event
    payload, and the ``encoding`` of the raw bytes."""

    body: Any
    encoding: str = "utf-8"


#: Parses ingress bodies of one content type (Backstage's ``HttpBodyParser``):
#: ``parser(raw, parameters, topic)`` with the raw bytes, the content type's parameters
#: (``{"charset": "utf-8"}``) and the topic; sync or async. Raise a Backstage error (e.g.
#: ``InputError``) to refuse the body.
HttpBodyParser = Callable[
    [bytes, Mapping[str, str], str], Awaitable[HttpBodyParseResult] | HttpBodyParseResult
]


@dataclass(frozen=True)
class RequestRejectionDetails:
    """How a rejected request is answered: ``status`` and the JSON ``payload``."""

    status: int
    payload: Any


class RequestValidationContext:
    """Passed to a validator; :meth:`reject` refuses the request (Backstage's
    ``RequestValidationContext``: 403 with ``{}`` unless told otherwise)."""

    def __init__(self) -> None:
        self._rejection: RequestRejectionDetails | None = None

    def reject(self, *, status: int | None = None, payload: Any = None) -> None:
        """Refuse the request with ``status`` (default 403) and ``payload`` (default ``{}``)."""
        self._rejection = RequestRejectionDetails(
            status=403 if status is None else status,
            payload={} if payload is None else payload,
        )

    @property
    def rejection(self) -> RequestRejectionDetails | None:
        """The rejection, or None while the request was not rejected."""
        return self._rejection


#: Checks an ingress request before its event is published (a webhook signature, a token);
#: calls ``context.reject(...)`` to refuse it. Sync or async.
RequestValidator = Callable[[RequestDetails, RequestValidationContext], Awaitable[None] | None]


class EventsExtensionPoint(Protocol):
    """What modules of the ``events`` plugin receive (Backstage's ``eventsExtensionPoint``)."""

    def add_http_post_ingress(self, topic: str, validator: RequestValidator | None = None) -> None:
        """Serve ``POST /api/events/http/<topic>``, publishing each accepted body to ``topic``."""

    def add_http_body_parser(self, content_type: str, parser: HttpBodyParser) -> None:
        """Read ingress bodies of ``content_type`` (``application/x-www-form-urlencoded``) with
        ``parser``; without one, only ``application/json`` is accepted (415 otherwise)."""


#: The ``events`` extension point; a module registers its ingresses through it::
#:
#:     env.register_init(
#:         deps={"events": events_extension_point},
#:         init=lambda events: events.add_http_post_ingress("github", check_signature),
#:     )
events_extension_point: ExtensionPoint[EventsExtensionPoint] = create_extension_point(id="events")
