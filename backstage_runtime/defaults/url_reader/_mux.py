"""``UrlReaderPredicateMux``: each call goes to the first reader whose predicate accepts the URL."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ...api.errors import NotAllowedError
from ...api.services.url_reader import (
    ReadTreeResponse,
    ReadUrlResponse,
    SearchResponse,
    TreeFilter,
    UrlReaderPredicateTuple,
    UrlReaderService,
)
from ._urls import redact_url, split_url

__all__ = ["UrlReaderPredicateMux", "not_allowed_message"]


def not_allowed_message(url: str) -> str:
    """Backstage's message for a URL that no reader accepts."""
    return (
        f"Reading from '{url}' is not allowed. You may need to configure an integration for the "
        "target host, or add it to the configured list of allowed hosts at "
        "'backend.reading.allow'"
    )


class UrlReaderPredicateMux:
    """A :class:`UrlReaderService` over readers tried in registration order.

    No accepting reader → :class:`NotAllowedError` with Backstage's message.
    """

    def __init__(self, readers: Iterable[UrlReaderPredicateTuple] = ()) -> None:
        self._readers: list[UrlReaderPredicateTuple] = list(readers)

    def register(self, tuple_: UrlReaderPredicateTuple) -> None:
        """Add a reader after the existing ones."""
        self._readers.append(tuple_)

    @property
    def readers(self) -> list[UrlReaderPredicateTuple]:
        """The registered readers, in the order they are tried."""
        return list(self._readers)

    def reader_for(self, url: str) -> UrlReaderService:
        """The reader that handles ``url``; raises :class:`NotAllowedError` if none does."""
        parts = split_url(url)
        for candidate in self._readers:
            if candidate.predicate(parts):
                return candidate.reader
        raise NotAllowedError(not_allowed_message(redact_url(url)))

    async def read_url(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified_after: datetime | None = None,
        token: str | None = None,
    ) -> ReadUrlResponse:
        """Read one file through the matching reader."""
        return await self.reader_for(url).read_url(
            url, etag=etag, last_modified_after=last_modified_after, token=token
        )

    async def read_tree(
        self,
        url: str,
        *,
        filter: TreeFilter | None = None,
        etag: str | None = None,
        token: str | None = None,
    ) -> ReadTreeResponse:
        """Read a tree through the matching reader."""
        return await self.reader_for(url).read_tree(url, filter=filter, etag=etag, token=token)

    async def search(
        self, url: str, *, etag: str | None = None, token: str | None = None
    ) -> SearchResponse:
        """Search through the matching reader."""
        return await self.reader_for(url).search(url, etag=etag, token=token)

    def __str__(self) -> str:
        return f"predicateMux{{readers={','.join(str(t.reader) for t in self._readers)}}}"
