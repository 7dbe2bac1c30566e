"""Object bodies streamed from GetObject: the ``read_url`` response and the chunks of one
tree or search file. Whoever opened the S3 client closes it once the body is done.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ._errors import s3_errors

if TYPE_CHECKING:
    from ._client import S3Clients
    from ._urls import S3Location

__all__ = ["CHUNK_SIZE", "S3ObjectResponse", "stream_object"]

#: Bytes read from a body at a time.
CHUNK_SIZE = 64 * 1024


class S3ObjectResponse:
    """A ``ReadUrlResponse`` over a GetObject body; ``resources`` (the client) are closed when
    the body was read, or by :meth:`aclose`.
    """

    def __init__(
        self,
        body: Any,
        resources: AsyncExitStack,
        *,
        source: str,
        etag: str | None,
        last_modified_at: datetime | None,
    ) -> None:
        self._body = body
        self._resources = resources
        self._source = source
        self._data: bytes | None = None
        self._claimed = False
        self.etag = etag
        self.last_modified_at = last_modified_at

    async def buffer(self) -> bytes:
        """The whole object (kept, so calling again is free)."""
        if self._data is None:
            self._data = b"".join([chunk async for chunk in self.stream()])
        return self._data

    async def stream(self) -> AsyncIterator[bytes]:
        """The object in chunks of at most 64 KiB."""
        if self._data is not None:
            yield self._data
            return
        if self._claimed:
            raise RuntimeError("Response has already been read")
        self._claimed = True
        try:
            while True:
                with s3_errors(f"Unable to read {self._source}"):
                    chunk = await self._body.read(CHUNK_SIZE)
                if not chunk:
                    return
                yield chunk
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Close the body and the client (an unread body is discarded)."""
        self._body.close()
        await self._resources.aclose()

    async def __aenter__(self) -> S3ObjectResponse:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def stream_object(
    clients: S3Clients, location: S3Location, key: str, *, source: str
) -> AsyncIterator[bytes]:
    """The chunks of ``key`` in ``location``'s bucket, fetched when iteration starts; the client
    is closed when the iteration ends (or the iterator is closed).
    """
    message = f"Could not retrieve file {key} from S3 at {source}"
    async with AsyncExitStack() as stack:
        with s3_errors(message):
            client = await stack.enter_async_context(clients.client(location.region))
            response = await client.get_object(Bucket=location.bucket, Key=key)
        body = response["Body"]
        stack.callback(body.close)
        while True:
            with s3_errors(message):
                chunk = await body.read(CHUNK_SIZE)
            if not chunk:
                return
            yield chunk
