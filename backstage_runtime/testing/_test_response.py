"""``TestResponse``: a test backend's answer, read whole, for ``TestBackend.request``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from multidict import CIMultiDictProxy

__all__ = ["TestResponse"]


@dataclass(frozen=True)
class TestResponse:
    """What :meth:`TestBackend.request` got back: the status, the headers and the whole body.

    The body is read before the connection is released, so the response can be inspected at
    leisure (after the backend stopped, too)::

        reply = await backend.request("GET", "/api/todo/items/9")
        assert reply.status == 404
        assert reply.json()["error"]["name"] == "NotFoundError"
    """

    __test__ = False  # not a pytest test class

    #: The HTTP status code.
    status: int
    #: The response headers (case-insensitive keys, repeated headers kept).
    headers: CIMultiDictProxy[str] = field(repr=False)
    #: The raw body (``b""`` when there was none, as for a 204).
    body: bytes = field(repr=False)

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (what Backstage's JSON and text replies use)."""
        return self.body.decode("utf-8")

    @property
    def content_type(self) -> str | None:
        """The media type of ``Content-Type`` without its parameters, None when absent."""
        value = self.headers.get("Content-Type")
        return None if value is None else value.split(";", 1)[0].strip().lower()

    def json(self) -> Any:
        """The body parsed as JSON.

        Raises :class:`ValueError` naming the status when there is no body, or when it is not
        JSON (its first characters are shown), so a failing assertion says what came back.
        """
        if not self.body:
            raise ValueError(f"The response ({self.status}) has no body to read as JSON")
        try:
            return json.loads(self.body)
        except ValueError:
            raise ValueError(
                f"The response ({self.status}, {self.content_type or 'no Content-Type'}) is not "
                f"JSON: {self.body[:200]!r}"
            ) from None
