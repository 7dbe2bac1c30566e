"""File contents as Gerrit sends them: base64 text, decoded as it streams."""

from __future__ import annotations

import binascii
import re
from collections.abc import AsyncIterator

from ....api.services.url_reader import ReadUrlResponse, UrlReaderError

__all__ = ["Base64ReadUrlResponse", "decode_base64"]

_WHITESPACE = re.compile(rb"\s+")


def decode_base64(data: bytes, *, source: str) -> bytes:
    """``data`` decoded; invalid base64 raises :class:`UrlReaderError` naming ``source``."""
    try:
        return binascii.a2b_base64(_WHITESPACE.sub(b"", data), strict_mode=True)
    except binascii.Error as error:
        raise UrlReaderError(f"Invalid base64 content from {source}, {error}") from None


class Base64ReadUrlResponse:
    """A ``ReadUrlResponse`` decoding the base64 body of ``inner`` (``etag`` given)."""

    def __init__(self, inner: ReadUrlResponse, *, source: str, etag: str | None) -> None:
        self._inner = inner
        self._source = source
        self._data: bytes | None = None
        self.etag = etag
        self.last_modified_at = inner.last_modified_at

    async def buffer(self) -> bytes:
        """The whole decoded content (kept, so calling again is free)."""
        if self._data is None:
            self._data = decode_base64(await self._inner.buffer(), source=self._source)
        return self._data

    async def stream(self) -> AsyncIterator[bytes]:
        """The decoded content in chunks, never holding the whole body."""
        if self._data is not None:
            yield self._data
            return
        pending = b""
        try:
            async for chunk in self._inner.stream():
                pending += _WHITESPACE.sub(b"", chunk)
                # Decode whole 4-character groups; the rest waits for the next chunk.
                usable = len(pending) - len(pending) % 4
                if usable:
                    yield decode_base64(pending[:usable], source=self._source)
                    pending = pending[usable:]
            if pending:
                yield decode_base64(pending, source=self._source)
        finally:
            # A consumer that stops early (or bad base64) must not keep the connection.
            await self._inner.aclose()

    async def aclose(self) -> None:
        """Release the connection without reading the body."""
        await self._inner.aclose()

    async def __aenter__(self) -> Base64ReadUrlResponse:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
