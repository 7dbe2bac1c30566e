"""``ReadUrlResponse`` implementations: over a source read in chunks (a live HTTP response, an
SDK download), or over bytes in memory."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Self

import aiohttp

from ...api.services.url_reader import UrlReaderError
from ._http import describe_client_error, parse_last_modified

__all__ = ["BytesReadUrlResponse", "ChunkedReadUrlResponse", "HttpReadUrlResponse"]

_CHUNK_SIZE = 64 * 1024


class ChunkedReadUrlResponse(ABC):
    """A ``ReadUrlResponse`` whose content arrives in chunks from a source that can be read
    once: ``buffer()`` keeps what it read, ``stream()`` releases the source when it ends, and
    :meth:`aclose` releases it unread.

    Subclasses give :meth:`_chunks` and :meth:`_release` (which may be called more than once).
    """

    def __init__(self, *, etag: str | None, last_modified_at: datetime | None) -> None:
        self.etag = etag
        self.last_modified_at = last_modified_at
        self._data: bytes | None = None
        self._claimed = False

    async def buffer(self) -> bytes:
        """The whole content (kept, so calling again is free)."""
        if self._data is None:
            self._data = b"".join([chunk async for chunk in self.stream()])
        return self._data

    async def stream(self) -> AsyncIterator[bytes]:
        """The content in chunks, as the source delivers them."""
        if self._data is not None:
            yield self._data
            return
        self._claim()
        try:
            async for chunk in self._chunks():
                yield chunk
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Release the source (unread content is discarded)."""
        await self._release()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _claim(self) -> None:
        # The source is a one-shot stream: a second reader would see a truncated or empty body.
        if self._claimed:
            raise RuntimeError("Response has already been read")
        self._claimed = True

    @abstractmethod
    def _chunks(self) -> AsyncIterator[bytes]:
        """The content's chunks, read from the source."""

    @abstractmethod
    async def _release(self) -> None:
        """Free what the source holds (a connection, a client)."""


class HttpReadUrlResponse(ChunkedReadUrlResponse):
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
        super().__init__(
            etag=etag if etag is not None else response.headers.get("ETag"),
            last_modified_at=(
                last_modified_at
                if last_modified_at is not None
                else parse_last_modified(response.headers.get("Last-Modified"))
            ),
        )
        self._response = response
        self._source = source

    async def buffer(self) -> bytes:
        """The whole body (kept, so calling again is free)."""
        # One read of the whole body: cheaper than joining the chunks of stream().
        if self._data is None:
            self._claim()
            try:
                self._data = await self._response.read()
            except (aiohttp.ClientError, TimeoutError) as error:
                raise self._read_error(error) from None
            finally:
                self._response.release()
        return self._data

    async def _chunks(self) -> AsyncIterator[bytes]:
        while True:
            try:
                chunk = await self._response.content.read(_CHUNK_SIZE)
            except (aiohttp.ClientError, TimeoutError) as error:
                raise self._read_error(error) from None
            if not chunk:
                return
            yield chunk

    async def _release(self) -> None:
        self._response.release()

    def _read_error(self, error: BaseException) -> UrlReaderError:
        return UrlReaderError(f"Unable to read {self._source}, {describe_client_error(error)}")


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
