"""``HarnessUrlReader``: Harness Code through its REST API v1 (Backstage's ``HarnessUrlReader``).

Files come from ``/+/raw/<path>`` (the blob SHA is the ETag, and Harness answers a matching
``If-None-Match`` with 304); trees from ``/+/archive/<commit>.zip`` at the branch's latest
commit, whose SHA is the ETag and is compared before anything is downloaded; globs from the
tree of the glob's static folder (Backstage's reader only reads literal URLs in ``search``).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

import aiohttp

from ....api.errors import AuthenticationError, InputError, NotModifiedError
from ....api.services.url_reader import (
    ReadTreeResponse,
    ReadUrlResponse,
    SearchResponse,
    TreeFilter,
    UrlReaderError,
)
from .._git import glob_filter, search_literal, tree_files_to_search
from .._glob import is_glob, static_prefix
from .._http import (
    ARCHIVE_TIMEOUT,
    conditional_headers,
    describe_client_error,
    iter_body,
    open_url,
    raise_for_status,
)
from .._integration_reader import IntegrationUrlReader
from .._responses import HttpReadUrlResponse
from .._urls import redact_url
from ._api import archive_url, latest_commit_url, raw_url
from ._config import HarnessIntegrationConfig, read_harness_integration_configs
from ._urls import HarnessUrl, parse_harness_url

__all__ = ["HarnessUrlReader"]


class HarnessUrlReader(IntegrationUrlReader[HarnessIntegrationConfig]):
    """Reads from one Harness host (``integrations.harness[]``)."""

    read_integrations = staticmethod(read_harness_integration_configs)

    async def read_url(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified_after: datetime | None = None,
        token: str | None = None,
    ) -> ReadUrlResponse:
        """Read one file of ``.../repos/<repo>/files/<branch>/~/<path>``."""
        parsed = parse_harness_url(url)
        if not parsed.path:
            raise InputError(
                f"Incorrect URL: {redact_url(url)}, Invalid Harness Code URL or file path "
                "(expected .../repos/<repo>/files/<branch>/~/<path>)"
            )
        built = raw_url(self.integration, parsed)
        headers = {
            **self.integration.auth_headers(token),
            **conditional_headers(etag, last_modified_after),
        }
        response = await open_url(self._session, built, headers=headers)
        _raise_for_status(response, f"{redact_url(url)} x {redact_url(built)}")
        return HttpReadUrlResponse(response, source=redact_url(url))

    async def read_tree(
        self,
        url: str,
        *,
        filter: TreeFilter | None = None,
        etag: str | None = None,
        token: str | None = None,
    ) -> ReadTreeResponse:
        """Read a repository (its default branch), a branch or a folder of one."""
        parsed = parse_harness_url(url)
        return await self._tree_at(
            url, parsed, parsed.path, self.integration.auth_headers(token), etag=etag, filter=filter
        )

    async def search(
        self, url: str, *, etag: str | None = None, token: str | None = None
    ) -> SearchResponse:
        """Files matching the glob in ``.../files/<branch>/~/<glob>``; a URL without glob is
        read as one file (no file on 404), as Backstage does.
        """
        parsed = parse_harness_url(url)
        if not is_glob(parsed.path):
            return await search_literal(lambda: self.read_url(url, etag=etag, token=token), url)
        folder = static_prefix(parsed.path)
        tree = await self._tree_at(
            url,
            parsed,
            folder,
            self.integration.auth_headers(token),
            etag=etag,
            filter=glob_filter(parsed.path, prefix=folder),
        )

        def to_url(path: str) -> str:
            full = f"{folder}/{path}" if folder else path
            return f"{parsed.file_prefix}/{quote(full)}"

        return tree_files_to_search(await tree.files(), etag=tree.etag, to_url=to_url)

    def __str__(self) -> str:
        return f"harness{{host={self.integration.host},authed={self.integration.authed}}}"

    # -- helpers -----------------------------------------------------------------------------

    async def _tree_at(
        self,
        url: str,
        parsed: HarnessUrl,
        path: str,
        auth: dict[str, str],
        *,
        etag: str | None,
        filter: TreeFilter | None,
    ) -> ReadTreeResponse:
        source = redact_url(url)
        commit = await self._latest_commit(parsed, auth)
        if etag and etag == commit:
            raise NotModifiedError()
        # The archive of the commit just compared, not of the branch: the tree then matches
        # its ETag even when the branch moves between the two requests.
        built = archive_url(self.integration, parsed, commit)
        response = await open_url(self._session, built, headers=auth, timeout=ARCHIVE_TIMEOUT)
        _raise_for_status(response, f"Failed to read tree from {source}")
        return self._trees.from_zip_archive(
            stream=iter_body(response, source=source),
            etag=commit,
            subpath=path,
            filter=filter,
            source=source,
        )

    async def _latest_commit(self, parsed: HarnessUrl, auth: dict[str, str]) -> str:
        built = latest_commit_url(self.integration, parsed)
        shown = redact_url(built)
        response = await open_url(self._session, built, headers=auth)
        try:
            _raise_for_status(
                response, f"Failed to retrieve latest commit information from {shown}"
            )
            try:
                body = await response.json(content_type=None)
            except (aiohttp.ClientError, ValueError) as error:
                raise UrlReaderError(
                    f"Invalid response from {shown}, {describe_client_error(error)}"
                ) from None
        finally:
            response.release()
        latest = body.get("latest_commit") if isinstance(body, dict) else None
        sha = latest.get("sha") if isinstance(latest, dict) else None
        if not isinstance(sha, str) or not sha:
            raise UrlReaderError(f"Invalid response from {shown}, no latest_commit.sha")
        return sha


def _raise_for_status(response: aiohttp.ClientResponse, message: str) -> None:
    """Our error mapping plus Backstage's for Harness: 403 → :class:`AuthenticationError`."""
    if response.status == 403:
        response.release()
        raise AuthenticationError(f"{message}, 403 {response.reason or 'Forbidden'}")
    raise_for_status(response, message)
