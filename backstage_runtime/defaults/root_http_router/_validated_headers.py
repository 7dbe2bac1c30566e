"""Hypercorn's check of a response's headers, remembered for the heads it has already passed.

Hypercorn's ``HTTPStream`` runs every ``http.response.start``'s header list through
``build_and_validate_headers`` (a Python loop: a pseudo-header check, two ``bytes()`` and two
``strip()`` a line), ~38k instructions a served request with the security headers' sixteen
lines. A route's responses repeat their head but for ``Date`` (once a second) and ``ETag`` (per
body), so the outcome for a whole list of exact ``bytes`` pairs is remembered; any other list,
and one not seen before, goes through Hypercorn's own function, which raises as it would.

:class:`NodeHTTPStream` is Hypercorn's stream with that one call replaced. Hypercorn's
HTTP/1.1 protocol makes its streams by the name ``HTTPStream`` in ``hypercorn.protocol.h11``;
:func:`install` puts :func:`http_stream` there, which makes a :class:`NodeHTTPStream` for the
servers that speak Node's HTTP/1.1 (a ``StrictFramingConfig``) and Hypercorn's own for others.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

import hypercorn.protocol.h11
from hypercorn.config import Config
from hypercorn.protocol.events import Event, Response
from hypercorn.protocol.http_stream import ASGIHTTPState, HTTPStream
from hypercorn.typing import AppWrapper, ASGISendEvent, TaskGroup, WorkerContext
from hypercorn.utils import build_and_validate_headers

__all__ = [
    "MAX_KNOWN_HEADER_LISTS",
    "NodeHTTPStream",
    "http_stream",
    "install",
    "validated_headers",
]

#: Most header lists remembered; past it the memory starts over, so varying values (ETags,
#: dates) cannot grow it without end.
MAX_KNOWN_HEADER_LISTS = 256

_Line = tuple[bytes, bytes]

_known: dict[tuple[_Line, ...], tuple[_Line, ...]] = {}


def validated_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """What ``build_and_validate_headers(headers)`` returns (a new list each time), or the
    error it raises."""
    lines = tuple(headers)
    try:
        found = _known.get(lines)
    except TypeError:  # an unhashable line (a list, a bytearray): not one to remember
        return build_and_validate_headers(lines)
    if found is not None:
        return list(found)
    validated = build_and_validate_headers(lines)
    # Only exact bytes pairs: their outcome depends on nothing but their values.
    if all(
        type(line) is tuple and len(line) == 2 and type(line[0]) is bytes and type(line[1]) is bytes
        for line in lines
    ):
        if len(_known) >= MAX_KNOWN_HEADER_LISTS:
            _known.clear()
        _known[lines] = tuple(validated)
    return validated


class NodeHTTPStream(HTTPStream):
    """Hypercorn's HTTP stream, its response start checked through :func:`validated_headers`."""

    async def app_send(self, message: ASGISendEvent | None) -> None:
        """Send the application's ``message`` on (Hypercorn's ``app_send``)."""
        if (
            message is not None
            and message["type"] == "http.response.start"
            and self.state == ASGIHTTPState.REQUEST
        ):
            # Hypercorn's own branch, the headers' check aside.
            self.response = message
            headers = validated_headers(message.get("headers", []))
            await self.send(
                Response(
                    stream_id=self.stream_id,
                    headers=headers,
                    status_code=int(message["status"]),
                )
            )
            self.state = ASGIHTTPState.RESPONSE
            return
        await super().app_send(message)


def http_stream(
    app: AppWrapper,
    config: Config,
    context: WorkerContext,
    task_group: TaskGroup,
    ssl: bool,
    client: tuple[str, int] | None,
    server: tuple[str, int] | None,
    send: Callable[[Event], Awaitable[None]],
    stream_id: int,
) -> HTTPStream:
    """The stream Hypercorn's HTTP/1.1 protocol makes for a request: a :class:`NodeHTTPStream`
    where the server's config asks for Node's HTTP/1.1, else Hypercorn's own."""
    kind = NodeHTTPStream if getattr(config, "strict_http1_framing", False) else HTTPStream
    return kind(app, config, context, task_group, ssl, client, server, send, stream_id)


def install() -> None:
    """Make Hypercorn's HTTP/1.1 protocol build its streams with :func:`http_stream`
    (idempotent)."""
    if getattr(hypercorn.protocol.h11, "HTTPStream", None) is not http_stream:
        setattr(hypercorn.protocol.h11, "HTTPStream", http_stream)  # noqa: B010
