"""``AzureDevOpsUrlReader``: Azure DevOps Services and Server (Backstage's ``AzureUrlReader``).

Files come from the Git items API (``.../_apis/git/repositories/<repo>/items?path=``), trees
from the same API as a zip download (``recursionLevel=full&download=true``) after the commits
API gave the head commit, which is the tree's ETag: an unchanged tree raises
:class:`NotModifiedError` before anything is downloaded. Globs (``?path=/**/*.yaml``) are
matched over the tree below their literal prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import aiohttp

from ....api.errors import NotFoundError, NotModifiedError
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
    parse_last_modified,
    raise_for_status,
)
from .._integration_reader import IntegrationUrlReader
from .._responses import HttpReadUrlResponse
from .._urls import redact_url, split_url
from ._config import AzureDevOpsIntegrationConfig, read_azure_integration_configs
from ._credentials import auth_headers
from ._urls import AzureUrl, parse_azure_url

__all__ = ["AzureDevOpsUrlReader"]


class AzureDevOpsUrlReader(IntegrationUrlReader[AzureDevOpsIntegrationConfig]):
    """Reads from one Azure DevOps host (``integrations.azure[]``)."""

    read_integrations = staticmethod(read_azure_integration_configs)

    async def read_url(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified_after: datetime | None = None,
        token: str | None = None,
    ) -> ReadUrlResponse:
        """Read the file of ``...?path=<file>&version=GB<branch>``."""
        parsed = parse_azure_url(url)
        built = parsed.file_url(self.integration.api_version)
        headers = {
            **self._auth(url, token),
            **conditional_headers(etag, last_modified_after),
            "Accept": "application/octet-stream",
        }
        response = await open_url(self._session, built, headers=headers)
        _check(response, f"{redact_url(url)} could not be read as {redact_url(built)}")
        if _unchanged(response, etag, last_modified_after):
            response.release()
            raise NotModifiedError()
        return HttpReadUrlResponse(response, source=redact_url(url))

    async def read_tree(
        self,
        url: str,
        *,
        filter: TreeFilter | None = None,
        etag: str | None = None,
        token: str | None = None,
    ) -> ReadTreeResponse:
        """Read the repository, or the folder of ``?path=``, at the ref of ``?version=``."""
        parsed = parse_azure_url(url)
        auth = self._auth(url, token)
        commit = await self._head_commit(parsed, auth)
        if etag and etag == commit:
            raise NotModifiedError()
        return await self._tree_at(parsed, commit, auth, filter=filter)

    async def search(
        self, url: str, *, etag: str | None = None, token: str | None = None
    ) -> SearchResponse:
        """Files matching the glob in ``?path=`` (a literal path reads that one file)."""
        parsed = parse_azure_url(url)
        if not parsed.path or not is_glob(parsed.path):
            return await search_literal(lambda: self.read_url(url, etag=etag, token=token), url)
        pattern = parsed.path.lstrip("/")
        folder = static_prefix(pattern)
        auth = self._auth(url, token)
        commit = await self._head_commit(parsed, auth)
        if etag and etag == commit:
            raise NotModifiedError()
        scoped = replace(parsed, path=f"/{folder}" if folder else None)
        try:
            tree = await self._tree_at(
                scoped, commit, auth, filter=glob_filter(pattern, prefix=folder)
            )
        except NotFoundError:
            # The glob's folder does not exist at this commit: nothing matches.
            return SearchResponse(files=[], etag=commit)

        def to_url(path: str) -> str:
            return parsed.with_path(f"/{folder}/{path}" if folder else f"/{path}")

        return tree_files_to_search(await tree.files(), etag=commit, to_url=to_url)

    def __str__(self) -> str:
        authed = bool(self.integration.credentials)
        return f"azure{{host={self.integration.host},authed={authed}}}"

    # -- helpers -----------------------------------------------------------------------------

    def _auth(self, url: str, token: str | None) -> dict[str, str]:
        return auth_headers(self.integration, split_url(url), token)

    async def _head_commit(self, parsed: AzureUrl, auth: Mapping[str, str]) -> str:
        commits_url = parsed.commits_url(self.integration.api_version)
        message = f"Failed to read tree from {redact_url(parsed.url)}"
        body = await self._get_json(commits_url, auth, message)
        commits = body.get("value") if isinstance(body, dict) else None
        if not isinstance(commits, list):
            raise UrlReaderError(f"{message}, unexpected answer from {redact_url(commits_url)}")
        if not commits:
            raise NotFoundError(f"{message}, the ref has no commits")
        commit = commits[0].get("commitId") if isinstance(commits[0], dict) else None
        if not isinstance(commit, str) or not commit:
            raise UrlReaderError(f"{message}, unexpected answer from {redact_url(commits_url)}")
        return commit

    async def _tree_at(
        self,
        parsed: AzureUrl,
        commit: str,
        auth: Mapping[str, str],
        *,
        filter: TreeFilter | None,
    ) -> ReadTreeResponse:
        source = redact_url(parsed.url)
        archive_url = parsed.archive_url(self.integration.api_version, commit)
        response = await open_url(
            self._session,
            archive_url,
            headers={**auth, "Accept": "application/zip"},
            timeout=ARCHIVE_TIMEOUT,
        )
        _check(response, f"Failed to read tree from {source}")
        # A folder's zip holds its files under a folder named like it (``/a/b`` → ``b/...``).
        segments = [segment for segment in (parsed.path or "").split("/") if segment]
        return self._trees.from_zip_archive(
            stream=iter_body(response, source=source),
            etag=commit,
            subpath=segments[-1] if segments else "",
            filter=filter,
            source=source,
        )

    async def _get_json(self, url: str, auth: Mapping[str, str], message: str) -> Any:
        response = await open_url(
            self._session, url, headers={**auth, "Accept": "application/json"}
        )
        try:
            _check(response, message)
            try:
                return await response.json(content_type=None)
            except (aiohttp.ClientError, ValueError) as error:
                raise UrlReaderError(
                    f"{message}, invalid answer from {redact_url(url)}, "
                    f"{describe_client_error(error)}"
                ) from None
        finally:
            response.release()


def _check(response: aiohttp.ClientResponse, message: str) -> None:
    """:func:`raise_for_status`, and 203 is an error too: Azure DevOps answers a credential it
    does not accept with ``203`` and a sign-in page.
    """
    if response.status == 203:
        response.release()
        raise UrlReaderError(
            f"{message}, 203 Non-Authoritative Information (Azure DevOps answers this with a "
            "sign-in page when it does not accept the credentials)",
            status=203,
        )
    raise_for_status(response, message)


def _unchanged(
    response: aiohttp.ClientResponse, etag: str | None, last_modified_after: datetime | None
) -> bool:
    # A server that ignores the conditional headers still says what it sent.
    if etag and response.headers.get("ETag") == etag:
        return True
    if last_modified_after is None:
        return False
    modified = parse_last_modified(response.headers.get("Last-Modified"))
    if last_modified_after.tzinfo is None:
        last_modified_after = last_modified_after.replace(tzinfo=UTC)  # as If-Modified-Since
    return modified is not None and modified <= last_modified_after
