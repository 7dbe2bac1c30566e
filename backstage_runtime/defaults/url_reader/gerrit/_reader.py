"""``GerritUrlReader``: Gerrit's REST API for files, Gitiles for trees and globs.

Locations are Gitiles URLs (see :mod:`._urls`). As in Backstage, a file comes from
``/projects/<p>/branches/<b>/files/<f>/content`` (``commits/<sha>/...`` for a commit), a tree
from Gitiles' ``+archive/<ref>[/<path>].tar.gz`` and a glob search from Gitiles' recursive JSON
listing, each file read lazily. The ETag is the commit the ref points to, which Gerrit's branch
API gives; Gerrit sends no ETag for file contents, so ``read_url`` uses it too (one more call,
but an unchanged branch answers :class:`NotModifiedError` without reading the file).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import aiohttp

from ....api.errors import InputError, NotFoundError, NotModifiedError
from ....api.services.config import Config
from ....api.services.url_reader import (
    ReadTreeResponse,
    ReadTreeResponseFactory,
    ReadUrlResponse,
    SearchResponse,
    SearchResponseFile,
    TreeFilter,
    UrlReaderPredicateTuple,
)
from .._git import ResolvedRef, glob_filter, glob_split, search_literal, with_ref_fallback
from .._glob import static_prefix
from .._http import ARCHIVE_TIMEOUT, iter_body, open_url, raise_for_status
from .._integration_reader import IntegrationUrlReader
from .._responses import HttpReadUrlResponse
from .._urls import host_predicate, redact_url
from ._api import GerritApi, Revision
from ._base64 import Base64ReadUrlResponse
from ._config import GerritIntegrationConfig, read_gerrit_integration_configs
from ._urls import GitilesUrl, parse_gitiles_url

__all__ = ["GerritUrlReader"]

T = TypeVar("T")


class GerritUrlReader(IntegrationUrlReader[GerritIntegrationConfig]):
    """Reads from one Gerrit host (``integrations.gerrit[]``) through its Gitiles URLs."""

    read_integrations = staticmethod(read_gerrit_integration_configs)

    @classmethod
    def factory(
        cls,
        *,
        config: Config,
        http_client: aiohttp.ClientSession,
        tree_response_factory: ReadTreeResponseFactory,
        **_: Any,
    ) -> list[UrlReaderPredicateTuple]:
        """A reader per ``integrations.gerrit`` entry; as in Backstage, each accepts URLs on
        the host of its ``gitilesBaseUrl`` (not ``host``, the API's host).
        """
        return [
            UrlReaderPredicateTuple(
                reader=cls(
                    integration, session=http_client, tree_response_factory=tree_response_factory
                ),
                predicate=host_predicate(integration.gitiles_host),
            )
            for integration in read_gerrit_integration_configs(config)
        ]

    async def read_url(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified_after: datetime | None = None,
        token: str | None = None,
    ) -> ReadUrlResponse:
        """Read one file of ``<project>/+/refs/heads/<branch>/<path>`` (or a tag, commit, HEAD).

        ``last_modified_after`` is ignored, as in Backstage: Gerrit gives no file dates.
        """
        parsed = self._parse(url)
        if len(parsed.rest) < (2 if not parsed.ref else 1):
            raise InputError(f"Incorrect URL: {redact_url(url)}, the Gitiles URL names no file")
        api = GerritApi(self._session, self.integration, token)

        async def attempt(ref: str, path: str) -> ReadUrlResponse:
            revision = await api.resolve(parsed.project, parsed.ref_type, ref)
            if etag and etag == revision.sha:
                raise NotModifiedError()
            return await self._content(api, url, parsed.project, revision, path)

        return (await self._at_ref(parsed, api, attempt, min_path_segments=1)).result

    async def read_tree(
        self,
        url: str,
        *,
        filter: TreeFilter | None = None,
        etag: str | None = None,
        token: str | None = None,
    ) -> ReadTreeResponse:
        """Read a project or a folder of it through the Gitiles archive."""
        parsed = self._parse(url)
        api = GerritApi(self._session, self.integration, token)
        api.require_gitiles()
        source = redact_url(url)

        async def attempt(ref: str, path: str) -> ReadTreeResponse:
            revision = await api.resolve(parsed.project, parsed.ref_type, ref)
            if etag and etag == revision.sha:
                raise NotModifiedError()
            archive = api.archive_url(parsed.project, revision, path)
            response = await open_url(
                self._session, archive, headers=api.headers, timeout=ARCHIVE_TIMEOUT
            )
            raise_for_status(response, f"{source} could not be read as {redact_url(archive)}")
            # Gitiles archives hold the folder's files at their root: no top folder to strip.
            return self._trees.from_tar_archive(
                stream=iter_body(response, source=source),
                etag=revision.sha,
                filter=filter,
                strip_first_directory=False,
                source=source,
            )

        return (await self._at_ref(parsed, api, attempt, min_path_segments=0)).result

    async def search(
        self, url: str, *, etag: str | None = None, token: str | None = None
    ) -> SearchResponse:
        """Files matching the glob in ``<project>/+/refs/heads/<branch>/<glob>``, listed by
        Gitiles and read when asked; a URL without glob is read as one file (none on 404).
        """
        parsed = self._parse(url)
        glob_segments = glob_split(parsed.rest)
        if not glob_segments:
            return await search_literal(lambda: self.read_url(url, etag=etag, token=token), url)
        if len(parsed.rest) - glob_segments < (0 if parsed.ref else 1):
            raise InputError(f"Incorrect URL: {redact_url(url)}, the search glob needs a ref")
        api = GerritApi(self._session, self.integration, token)
        api.require_gitiles()

        async def attempt(ref: str, pattern: str) -> tuple[Revision, list[str]]:
            revision = await api.resolve(parsed.project, parsed.ref_type, ref)
            if etag and etag == revision.sha:
                raise NotModifiedError()
            return revision, await self._list(api, parsed.project, revision, pattern)

        resolved = await self._at_ref(parsed, api, attempt, min_path_segments=glob_segments)
        revision, paths = resolved.result

        def reader_of(path: str) -> Callable[[], Awaitable[bytes]]:
            async def content() -> bytes:
                file = await self._content(
                    api, parsed.to_url(resolved.ref, path), parsed.project, revision, path
                )
                return await file.buffer()

            return content

        return SearchResponse(
            files=[
                SearchResponseFile(url=parsed.to_url(resolved.ref, path), content=reader_of(path))
                for path in paths
            ],
            etag=revision.sha,
        )

    def __str__(self) -> str:
        return f"gerrit{{host={self.integration.host},authed={bool(self.integration.password)}}}"

    # -- helpers ---------------------------------------------------------------------------------

    def _parse(self, url: str) -> GitilesUrl:
        return parse_gitiles_url(url, self.integration.gitiles_path)

    async def _at_ref(
        self,
        parsed: GitilesUrl,
        api: GerritApi,
        attempt: Callable[[str, str], Awaitable[T]],
        *,
        min_path_segments: int,
    ) -> ResolvedRef[T]:
        # A commit or HEAD is one segment; a branch or tag name may have slashes.
        if parsed.ref:
            path = "/".join(parsed.rest)
            return ResolvedRef(parsed.ref, path, await attempt(parsed.ref, path))
        return await with_ref_fallback(
            parsed.rest,
            attempt,
            api.ref_lookup(parsed.project, parsed.ref_type),
            min_path_segments=min_path_segments,
        )

    async def _content(
        self, api: GerritApi, url: str, project: str, revision: Revision, path: str
    ) -> ReadUrlResponse:
        content = api.content_url(project, revision, path)
        response = await open_url(self._session, content, headers=api.headers)
        if response.status == 404:
            response.release()
            raise NotFoundError(f"File {redact_url(url)} not found.")
        raise_for_status(response, f"{redact_url(url)} could not be read as {redact_url(content)}")
        return Base64ReadUrlResponse(
            HttpReadUrlResponse(response, source=redact_url(url)),
            source=redact_url(url),
            etag=revision.sha,
        )

    async def _list(
        self, api: GerritApi, project: str, revision: Revision, pattern: str
    ) -> list[str]:
        """The blobs below the glob's static folder that match it (paths from the root)."""
        folder = static_prefix(pattern)
        listing_url = api.tree_url(project, revision, folder)
        try:
            listing = await api.json(
                listing_url, message=f"Unable to list files of {redact_url(listing_url)}"
            )
        except NotFoundError:
            return []  # the ref exists (it was resolved), so the folder does not
        keep = glob_filter(pattern, prefix=folder)
        return [
            f"{folder}/{entry['name']}" if folder else str(entry["name"])
            for entry in listing.get("entries", [])
            if entry.get("type") == "blob" and entry.get("name") and keep(entry["name"], None)
        ]
