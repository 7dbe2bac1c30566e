"""``ReadUrlResponse`` implementations: over a live HTTP response, or over bytes in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import aiohttp

from ...api.services.url_reader import UrlReaderError
from ._http import describe_client_error, parse_last_modified

__all__ = ["BytesReadUrlResponse", "HttpReadUrlResponse"]

_CHUNK_SIZE = 64 * 1024


class HttpReadUrlResponse:
    """The body of an HTTP response, read on demand; the connection is released once the body
    was read (or :meth:`aclose` was called).

    ``etag`` and ``last_modified_at`` come from the ``ETag`` and ``Last-Modified`` headers
    unless given.
    """

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        *,
        source: str,
        etag: str | None = None,
        last_modified_at: datetime | None = None,
    ) -> None:
        self._response = response
        self._source = source
        self._data: bytes | None = None
        self._streamed = False
        self.etag = etag if etag is not None else response.headers.get("ETag")
        self.last_modified_at = (
            last_modified_at
            if last_modified_at is not None
            else parse_last_modified(response.headers.get("Last-Modified"))
        )

    async def buffer(self) -> bytes:
        """The whole body (kept, so calling again is free)."""
        if self._data is None:
            self._claim()
            try:
                self._data = await self._response.read()
            except (aiohttp.ClientError, TimeoutError) as error:
                raise UrlReaderError(
                    f"Unable to read {self._source}, {describe_client_error(error)}"
                ) from None
            finally:
                self._response.release()
        return self._data

    async def stream(self) -> AsyncIterator[bytes]:
        """The body in chunks of at most 64 KiB."""
        if self._data is not None:
            yield self._data
            return
        self._claim()
        try:
            while True:
                try:
                    chunk = await self._response.content.read(_CHUNK_SIZE)
                except (aiohttp.ClientError, TimeoutError) as error:
                    raise UrlReaderError(
                        f"Unable to read {self._source}, {describe_client_error(error)}"
                    ) from None
                if not chunk:
                    return
                yield chunk
        finally:
            self._response.release()

    async def aclose(self) -> None:
        """Release the connection (the body is discarded if unread)."""
        self._response.release()

    async def __aenter__(self) -> HttpReadUrlResponse:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _claim(self) -> None:
        # The body is a one-shot stream: a second reader would see a truncated or empty body.
        if self._streamed:
            raise RuntimeError("Response has already been read")
        self._streamed = True


class BytesReadUrlResponse:
    """A ``ReadUrlResponse`` over content already in memory."""

    def __init__(
        self, data: bytes, *, etag: str | None = None, last_modified_at: datetime | None = None
    ) -> None:
        self._data = data
        self.etag = etag
        self.last_modified_at = last_modified_at

    async def buffer(self) -> bytes:
        """The content."""
        return self._data

    async def stream(self) -> AsyncIterator[bytes]:
        """The content as one chunk."""
        yield self._data

    async def aclose(self) -> None:
        """Nothing to release."""

    async def __aenter__(self) -> BytesReadUrlResponse:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None
