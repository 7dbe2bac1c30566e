"""A ``send`` that puts headers ahead of the application's on the response start."""

from __future__ import annotations

from collections.abc import Sequence

from ...http_toolkit import Message, Send

__all__ = ["PrependHeadersSend"]


class PrependHeadersSend:
    """Puts ``headers`` before the application's own on ``http.response.start``, as headers
    that Node middleware set before any handler ran come first in the response.
    """

    __slots__ = ("_headers", "_send")

    def __init__(self, send: Send, headers: Sequence[tuple[bytes, bytes]]) -> None:
        self._send = send
        self._headers = headers

    async def __call__(self, message: Message) -> None:
        """Add the headers to a start message; pass every message on."""
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*self._headers, *message.get("headers", ())]}
        await self._send(message)
