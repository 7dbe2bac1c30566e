"""ASGI types and the two primitives every layer needs: a JSON response and the request URL."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, TypeAlias

__all__ = [
    "ASGIApp",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "json_bytes",
    "mount_relative_path",
    "request_url",
    "send_json",
]

#: An ASGI connection scope.
Scope: TypeAlias = MutableMapping[str, Any]
#: An ASGI event, received or sent.
Message: TypeAlias = MutableMapping[str, Any]
#: The ASGI ``receive`` callable.
Receive: TypeAlias = Callable[[], Awaitable[Message]]
#: The ASGI ``send`` callable.
Send: TypeAlias = Callable[[Message], Awaitable[None]]
#: An ASGI 3 application.
ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]

_JSON_CONTENT_TYPE = (b"content-type", b"application/json; charset=utf-8")


def json_bytes(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON, byte-for-byte what Express's ``res.json`` writes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


async def send_json(
    send: Send,
    status: int,
    value: Any,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    """Send a complete JSON response."""
    body = json_bytes(value)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                _JSON_CONTENT_TYPE,
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def mount_relative_path(scope: Scope) -> str:
    """The request path below its mount point (``root_path``), ``/`` for the mount itself."""
    path: str = scope["path"]
    return path[len(scope.get("root_path", "")) :] or "/"


def request_url(scope: Scope, *, relative: bool) -> str:
    """The request's path and query as Express's ``req.url`` has it.

    ``relative`` strips the mount point (``root_path``), as inside a plugin router where Backstage
    reports ``/entities`` rather than ``/api/catalog/entities``.
    """
    path: str = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
    if relative:
        root = scope.get("root_path", "")
        if root and path.lower().startswith(root.lower()):
            path = path[len(root) :] or "/"
    query: bytes = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path
