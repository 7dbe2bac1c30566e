"""What the layers of one request learn about it, kept in the ASGI scope behind a typed accessor."""

from __future__ import annotations

from dataclasses import dataclass

from ._asgi import Scope

__all__ = ["RequestInfo", "get_request_info", "set_request_info"]

# The scope key; mounted scopes are copies of the root's, so they share the one object.
_KEY = "backstage"


@dataclass(slots=True)
class RequestInfo:
    """One request as the root router tracks it.

    ``plugin_id`` is set when a plugin router takes the request; ``route`` when one of its
    Quart routes matched (the template, ``/api/todo/items/<item_id>``); ``status`` when the response
    start reaches the server (until then an error can still replace the response);
    ``content_length`` is its ``Content-Length`` or, without one (a stream, a compressed body),
    the body bytes sent so far.
    """

    request_id: str
    started: float
    plugin_id: str | None = None
    route: str | None = None
    status: int | None = None
    content_length: int | None = None


def get_request_info(scope: Scope) -> RequestInfo | None:
    """The request's info, or None when no root router tracks it (an app served on its own)."""
    info: RequestInfo | None = scope.get(_KEY)
    return info


def set_request_info(scope: Scope, info: RequestInfo) -> None:
    """Attach ``info`` to the request, for every layer below to read and update."""
    scope[_KEY] = info
