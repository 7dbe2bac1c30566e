"""``FetchUrlReader``: a plain GET of URLs on hosts listed in ``backend.reading.allow``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import SplitResult

import aiohttp

from ....api.errors import InputError, NotAllowedError, NotFoundError, NotImplementedYetError
from ....api.services.config import Config
from ....api.services.url_reader import (
    ReadTreeResponse,
    ReadUrlResponse,
    SearchResponse,
    SearchResponseFile,
    TreeFilter,
    UrlReaderPredicateTuple,
)
from .._glob import is_glob
from .._http import format_http_date, open_url, raise_for_status
from .._mux import not_allowed_message
from .._responses import HttpReadUrlResponse
from .._urls import redact_url, split_url
from ._allow_list import AllowedTarget, read_allow_list

__all__ = ["FetchUrlReader"]


class FetchUrlReader:
    """Reads any URL accepted by the allow-list; redirects are followed (at most 5) only to
    URLs the allow-list accepts too.
    """

    def __init__(self, *, session: aiohttp.ClientSession, allow: Sequence[AllowedTarget]) -> None:
        self._session = session
        self._allow = list(allow)

    @classmethod
    def factory(
        cls, *, config: Config, http_client: aiohttp.ClientSession, **_: Any
    ) -> list[UrlReaderPredicateTuple]:
        """One reader whose predicate is ``backend.reading.allow`` (matches nothing if unset)."""
        reader = cls(session=http_client, allow=read_allow_list(config))
        return [UrlReaderPredicateTuple(reader=reader, predicate=reader.allows)]

    def allows(self, parts: SplitResult) -> bool:
        """Whether ``backend.reading.allow`` covers the URL."""
        return any(target.matches(parts) for target in self._allow)

    async def read_url(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified_after: datetime | None = None,
        token: str | None = None,
    ) -> ReadUrlResponse:
        """GET the URL, sending ``If-None-Match`` / ``If-Modified-Since`` / a bearer token."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified_after is not None:
            headers["If-Modified-Since"] = format_http_date(last_modified_after)
        if token:
            headers["Authorization"] = f"Bearer {token}"

        def check_hop(next_url: str) -> None:
            if not self.allows(split_url(next_url)):
                raise NotAllowedError(
                    f"{not_allowed_message(redact_url(next_url))} "
                    f"(redirected from '{redact_url(url)}')"
                )

        response = await open_url(self._session, url, headers=headers, check_hop=check_hop)
        raise_for_status(response, f"could not read {redact_url(url)}")
        return HttpReadUrlResponse(response, source=redact_url(url))

    async def read_tree(
        self,
        url: str,
        *,
        filter: TreeFilter | None = None,
        etag: str | None = None,
        token: str | None = None,
    ) -> ReadTreeResponse:
        """Not supported, as in Backstage."""
        raise NotImplementedYetError("FetchUrlReader does not implement readTree")

    async def search(
        self, url: str, *, etag: str | None = None, token: str | None = None
    ) -> SearchResponse:
        """Only a literal URL: one file, or none when it does not exist."""
        if is_glob(split_url(url).path):
            raise InputError(
                f"FetchUrlReader cannot search '{redact_url(url)}': only literal URLs are supported"
            )
        try:
            response = await self.read_url(url, etag=etag, token=token)
        except NotFoundError:
            return SearchResponse(files=[], etag="")
        data = await response.buffer()

        async def content() -> bytes:
            return data

        return SearchResponse(
            files=[
                SearchResponseFile(
                    url=url, content=content, last_modified_at=response.last_modified_at
                )
            ],
            etag=response.etag or "",
        )

    def __str__(self) -> str:
        return "fetch{}"
