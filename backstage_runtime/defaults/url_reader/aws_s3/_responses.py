"""Object bodies streamed from GetObject: the ``read_url`` response and the chunks of one
tree or search file. Whoever opened the S3 client closes it once the body is done.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .._responses import ChunkedReadUrlResponse
from ._errors import s3_errors

if TYPE_CHECKING:
    from ._client import S3Clients
    from ._urls import S3Location

__all__ = ["CHUNK_SIZE", "S3ObjectResponse", "stream_object"]

#: Bytes read from a body at a time.
CHUNK_SIZE = 64 * 1024


class S3ObjectResponse(ChunkedReadUrlResponse):
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
        super().__init__(etag=etag, last_modified_at=last_modified_at)
        self._body = body
        self._resources = resources
        self._source = source

    async def _chunks(self) -> AsyncIterator[bytes]:
        while True:
            with s3_errors(f"Unable to read {self._source}"):
                chunk = await self._body.read(CHUNK_SIZE)
            if not chunk:
                return
            yield chunk

    async def _release(self) -> None:
        self._body.close()
        await self._resources.aclose()


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
