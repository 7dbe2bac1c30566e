"""Calling an ASGI app without a socket: a scope, a receive that has nothing, a recording send."""

from __future__ import annotations

from typing import Any


def http_scope(
    path: str, *, method: str = "GET", root_path: str = "", headers: list[Any] | None = None
) -> dict[str, Any]:
    """An HTTP scope for ``path`` (whole, Starlette's convention) below ``root_path``."""
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": root_path,
        "query_string": b"",
        "headers": headers or [],
        "http_version": "1.1",
    }


async def nothing() -> dict[str, Any]:
    """A receive for requests without a body."""
    return {"type": "http.request", "body": b"", "more_body": False}


class Recorder:
    """A send that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def __call__(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        """The response status."""
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """The response headers, in order."""
        return list(self.messages[0]["headers"])

    @property
    def body(self) -> bytes:
        """Every body message joined."""
        return b"".join(m.get("body", b"") for m in self.messages[1:])


async def ok_app(scope: Any, receive: Any, send: Any) -> None:
    """Answers 200 ``ok`` with a length; counts its calls in ``scope['calls']``."""
    scope["calls"] = scope.get("calls", 0) + 1
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")],
        }
    )
    await send({"type": "http.response.body", "body": b"ok"})
